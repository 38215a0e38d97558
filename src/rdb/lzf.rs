//! LZF decompression (the format of Redis's `lzf_d.c`), for LZF-compressed strings in DUMP
//! payloads. Every read and back-reference is bounds-checked: bad input is an error.

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
    fn malformed_is_refused() {
        assert_eq!(decompress(&[0x05, b'a'], 6), None);
        assert_eq!(decompress(&[(1 << 5), 0x00], 3), None);
        assert_eq!(decompress(&[0x00, b'a'], 2), None);
    }
}
