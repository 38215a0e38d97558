//! LZF (the format of Redis's `lzf_c.c` / `lzf_d.c`): strings in DUMP payloads longer than 20
//! bytes are compressed when that saves at least 4 bytes, as Redis does. Decompression checks
//! every read and back-reference: bad input is an error.

/// Decompresses `input` into exactly `out_len` bytes; None if the data is malformed or does
/// not decompress to that length.
pub fn decompress(input: &[u8], out_len: usize) -> Option<Vec<u8>> {
    // A back-reference yields at most 264 bytes from 3: a longer claimed length is a lie,
    // refused before anything is allocated.
    if out_len > input.len().saturating_mul(88) {
        return None;
    }
    let mut out: Vec<u8> = Vec::with_capacity(out_len);
    let mut i = 0;
    while i < input.len() {
        let ctrl = usize::from(input[i]);
        i += 1;
        if ctrl < 32 {
            let run = ctrl + 1;
            let lit = input.get(i..i + run)?;
            if out.len() + run > out_len {
                return None;
            }
            out.extend_from_slice(lit);
            i += run;
        } else {
            let mut len = ctrl >> 5;
            if len == 7 {
                len += usize::from(*input.get(i)?);
                i += 1;
            }
            len += 2;
            let back = ((ctrl & 0x1f) << 8) + usize::from(*input.get(i)?) + 1;
            i += 1;
            if back > out.len() || out.len() + len > out_len {
                return None;
            }
            let start = out.len() - back;
            // The copy may overlap what it writes (a run): byte by byte.
            for k in 0..len {
                let b = out[start + k];
                out.push(b);
            }
        }
    }
    (out.len() == out_len).then_some(out)
}

/// Longest back-reference LZF can express (7 + 255 + 2).
const MAX_REF: usize = 264;
/// Farthest back-reference (13 bits of offset).
const MAX_OFF: usize = 8192;
/// Longest literal run.
const MAX_LIT: usize = 32;
const HASH_BITS: u32 = 14;

/// LZF-compresses `input` (greedy, one hash probe per position; any valid LZF stream is what
/// Redis's `lzf_decompress` needs). None unless the result is at most `limit` bytes (Redis
/// keeps a string compressed only when that saves at least 4 bytes).
pub fn compress(input: &[u8], limit: usize) -> Option<Vec<u8>> {
    let n = input.len();
    let mut out = Vec::with_capacity(limit.min(n));
    let mut table = vec![usize::MAX; 1 << HASH_BITS];
    let hash = |i: usize| -> usize {
        let v = u32::from(input[i]) << 16 | u32::from(input[i + 1]) << 8 | u32::from(input[i + 2]);
        (v.wrapping_mul(2_654_435_761) >> (32 - HASH_BITS)) as usize
    };
    let flush = |out: &mut Vec<u8>, lit: &[u8]| {
        for chunk in lit.chunks(MAX_LIT) {
            out.push((chunk.len() - 1) as u8);
            out.extend_from_slice(chunk);
        }
    };
    let mut lit_start = 0;
    let mut i = 0;
    while i + 2 < n {
        let h = hash(i);
        let cand = table[h];
        table[h] = i;
        if cand != usize::MAX && i - cand <= MAX_OFF && input[cand..cand + 3] == input[i..i + 3] {
            let max = MAX_REF.min(n - i);
            let mut len = 3;
            while len < max && input[cand + len] == input[i + len] {
                len += 1;
            }
            flush(&mut out, &input[lit_start..i]);
            let off = i - cand - 1;
            let l = len - 2;
            if l < 7 {
                out.push(((l << 5) | (off >> 8)) as u8);
            } else {
                out.push(((7 << 5) | (off >> 8)) as u8);
                out.push((l - 7) as u8);
            }
            out.push((off & 0xff) as u8);
            i += len;
            lit_start = i;
            if out.len() > limit {
                return None;
            }
        } else {
            i += 1;
        }
    }
    flush(&mut out, &input[lit_start..]);
    (out.len() <= limit).then_some(out)
}

#[cfg(test)]
mod tests {
    use super::decompress;

    #[test]
    fn literal_and_back_reference() {
        // "aaaaaaaaaa": literal "a", then a back-reference of length 9 at distance 1.
        let data = [0x00, b'a', (7 << 5), 0x00, 0x00];
        assert_eq!(decompress(&[0x00, b'a'], 1).as_deref(), Some(&b"a"[..]));
        assert_eq!(decompress(&data[..2], 1).as_deref(), Some(&b"a"[..]));
        // ctrl (len 7 → 7 + next byte 0 = 7, +2 = 9), offset 0 → distance 1
        assert_eq!(decompress(&data, 10).as_deref(), Some(&b"aaaaaaaaaa"[..]));
    }

    #[test]
    fn compress_round_trips() {
        let mut inputs: Vec<Vec<u8>> = vec![vec![b'a'; 5000], b"abcabcabcabcabcabcabcabc".to_vec()];
        inputs.push((0..20_000u32).map(|i| (i % 251) as u8 ^ (i / 7) as u8).collect());
        inputs.push("the quick brown fox jumps over the lazy dog; ".repeat(300).into_bytes());
        for input in inputs {
            let c = super::compress(&input, input.len()).unwrap();
            assert!(c.len() < input.len());
            assert_eq!(decompress(&c, input.len()).unwrap(), input);
        }
        let random: Vec<u8> = (0..1000u64).map(|i| (i.wrapping_mul(0x9e37_79b9_7f4a_7c15) >> 56) as u8).collect();
        if let Some(c) = super::compress(&random, random.len() - 4) {
            assert_eq!(decompress(&c, random.len()).unwrap(), random);
        }
        assert_eq!(super::compress(b"abcdefghijklmnopqrstuvwxyz", 22), None);
    }

    #[test]
    fn malformed_is_refused() {
        assert_eq!(decompress(&[0x05, b'a'], 6), None);
        assert_eq!(decompress(&[(1 << 5), 0x00], 3), None);
        assert_eq!(decompress(&[0x00, b'a'], 2), None);
    }
}
