//! Redis's compact containers as DUMP payloads carry them: listpacks (read and written),
//! ziplists, intsets and zipmaps (read only). Readers check every length against the buffer
//! and refuse anything malformed with `None`; they never panic.

use bytes::Bytes;

/// One element of a listpack or ziplist: a string or an integer.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Elem<'a> {
    Str(&'a [u8]),
    Int(i64),
}

impl Elem<'_> {
    /// The element as bytes (an integer as its decimal text, as Redis reads it back).
    pub fn to_bytes(self) -> Bytes {
        match self {
            Elem::Str(s) => Bytes::copy_from_slice(s),
            Elem::Int(n) => Bytes::copy_from_slice(itoa::Buffer::new().format(n).as_bytes()),
        }
    }

    /// The element as an integer (a string must be one, strictly).
    pub fn to_int(self) -> Option<i64> {
        match self {
            Elem::Int(n) => Some(n),
            Elem::Str(s) => crate::numeric::parse_i64_strict(s),
        }
    }
}

fn le(b: &[u8]) -> u64 {
    b.iter().rev().fold(0u64, |acc, &x| (acc << 8) | u64::from(x))
}

/// Sign-extends the low `bits` bits of `v`.
fn sext(v: u64, bits: u32) -> i64 {
    let shift = 64 - bits;
    ((v << shift) as i64) >> shift
}

/// The bytes of a listpack entry's back-length for an entry of `l` bytes.
fn backlen(l: usize, out: &mut Vec<u8>) {
    let l = l as u64;
    let n: u32 = if l <= 127 {
        1
    } else if l < 16383 {
        2
    } else if l < 2_097_151 {
        3
    } else if l < 268_435_455 {
        4
    } else {
        5
    };
    for i in (0..n).rev() {
        let byte = ((l >> (7 * i)) & 127) as u8;
        out.push(if i == n - 1 { byte } else { byte | 128 });
    }
}

/// The elements of a listpack, or None if it is malformed.
pub fn parse_listpack(buf: &[u8]) -> Option<Vec<Elem<'_>>> {
    if buf.len() < 7 || le(&buf[..4]) != buf.len() as u64 || buf[buf.len() - 1] != 0xff {
        return None;
    }
    let declared = le(&buf[4..6]) as usize;
    let mut out = Vec::new();
    let mut p = 6;
    let mut back = Vec::with_capacity(5);
    loop {
        let b = *buf.get(p)?;
        if b == 0xff {
            break;
        }
        let (elem, len) = if b & 0x80 == 0 {
            (Elem::Int(i64::from(b & 0x7f)), 1)
        } else if b & 0xc0 == 0x80 {
            let n = usize::from(b & 0x3f);
            (Elem::Str(buf.get(p + 1..p + 1 + n)?), 1 + n)
        } else if b & 0xe0 == 0xc0 {
            let v = (u64::from(b & 0x1f) << 8) | u64::from(*buf.get(p + 1)?);
            (Elem::Int(sext(v, 13)), 2)
        } else if b & 0xf0 == 0xe0 {
            let n = (usize::from(b & 0x0f) << 8) | usize::from(*buf.get(p + 1)?);
            (Elem::Str(buf.get(p + 2..p + 2 + n)?), 2 + n)
        } else {
            match b {
                0xf0 => {
                    let n = usize::try_from(le(buf.get(p + 1..p + 5)?)).ok()?;
                    (Elem::Str(buf.get(p + 5..p.checked_add(5)?.checked_add(n)?)?), 5 + n)
                }
                0xf1 => (Elem::Int(sext(le(buf.get(p + 1..p + 3)?), 16)), 3),
                0xf2 => (Elem::Int(sext(le(buf.get(p + 1..p + 4)?), 24)), 4),
                0xf3 => (Elem::Int(sext(le(buf.get(p + 1..p + 5)?), 32)), 5),
                0xf4 => (Elem::Int(le(buf.get(p + 1..p + 9)?) as i64), 9),
                _ => return None,
            }
        };
        back.clear();
        backlen(len, &mut back);
        if buf.get(p + len..p + len + back.len())? != back.as_slice() {
            return None;
        }
        p += len + back.len();
        out.push(elem);
    }
    if p != buf.len() - 1 || (declared != 65535 && declared != out.len()) {
        return None;
    }
    Some(out)
}

/// Builds a listpack as Redis does: strings that are canonical integers are stored as
/// integers in the smallest encoding.
pub struct ListpackWriter {
    buf: Vec<u8>,
    count: usize,
}

impl Default for ListpackWriter {
    fn default() -> Self {
        ListpackWriter { buf: vec![0; 6], count: 0 }
    }
}

impl ListpackWriter {
    pub fn len(&self) -> usize {
        self.count
    }

    pub fn is_empty(&self) -> bool {
        self.count == 0
    }

    /// Bytes so far.
    pub fn bytes(&self) -> usize {
        self.buf.len() + 1
    }

    pub fn push(&mut self, s: &[u8]) {
        match crate::numeric::parse_i64_strict(s) {
            Some(n) if s.len() <= 20 => self.push_int(n),
            _ => self.push_str(s),
        }
    }

    fn push_str(&mut self, s: &[u8]) {
        let start = self.buf.len();
        let n = s.len();
        if n < 64 {
            self.buf.push(0x80 | n as u8);
        } else if n < 4096 {
            self.buf.push(0xe0 | (n >> 8) as u8);
            self.buf.push((n & 0xff) as u8);
        } else {
            self.buf.push(0xf0);
            self.buf.extend_from_slice(&(n as u32).to_le_bytes());
        }
        self.buf.extend_from_slice(s);
        self.end_entry(start);
    }

    pub fn push_int(&mut self, v: i64) {
        let start = self.buf.len();
        if (0..=127).contains(&v) {
            self.buf.push(v as u8);
        } else if (-4096..=4095).contains(&v) {
            let u = (v as u64) & 0x1fff;
            self.buf.push(0xc0 | (u >> 8) as u8);
            self.buf.push((u & 0xff) as u8);
        } else if (-32768..=32767).contains(&v) {
            self.buf.push(0xf1);
            self.buf.extend_from_slice(&(v as i16).to_le_bytes());
        } else if (-8_388_608..=8_388_607).contains(&v) {
            self.buf.push(0xf2);
            self.buf.extend_from_slice(&(v as i32).to_le_bytes()[..3]);
        } else if i32::try_from(v).is_ok() {
            self.buf.push(0xf3);
            self.buf.extend_from_slice(&(v as i32).to_le_bytes());
        } else {
            self.buf.push(0xf4);
            self.buf.extend_from_slice(&v.to_le_bytes());
        }
        self.end_entry(start);
    }

    fn end_entry(&mut self, start: usize) {
        let len = self.buf.len() - start;
        backlen(len, &mut self.buf);
        self.count += 1;
    }

    pub fn finish(mut self) -> Vec<u8> {
        self.buf.push(0xff);
        let total = self.buf.len() as u32;
        self.buf[..4].copy_from_slice(&total.to_le_bytes());
        let n = u16::try_from(self.count).unwrap_or(u16::MAX);
        self.buf[4..6].copy_from_slice(&n.to_le_bytes());
        self.buf
    }
}

/// The elements of a ziplist, or None if it is malformed.
pub fn parse_ziplist(buf: &[u8]) -> Option<Vec<Elem<'_>>> {
    if buf.len() < 11 || le(&buf[..4]) != buf.len() as u64 || buf[buf.len() - 1] != 0xff {
        return None;
    }
    let declared = le(&buf[8..10]) as usize;
    let mut out = Vec::new();
    let mut p = 10;
    loop {
        let first = *buf.get(p)?;
        if first == 0xff {
            break;
        }
        p += match first {
            0xfe => 5,
            _ => 1,
        };
        let e = *buf.get(p)?;
        let (elem, len) = match e >> 6 {
            0 => {
                let n = usize::from(e & 0x3f);
                (Elem::Str(buf.get(p + 1..p + 1 + n)?), 1 + n)
            }
            1 => {
                let n = (usize::from(e & 0x3f) << 8) | usize::from(*buf.get(p + 1)?);
                (Elem::Str(buf.get(p + 2..p + 2 + n)?), 2 + n)
            }
            2 => {
                let b = buf.get(p + 1..p + 5)?;
                let n = usize::try_from(u32::from_be_bytes([b[0], b[1], b[2], b[3]])).ok()?;
                (Elem::Str(buf.get(p + 5..p.checked_add(5)?.checked_add(n)?)?), 5 + n)
            }
            _ => match e {
                0xc0 => (Elem::Int(sext(le(buf.get(p + 1..p + 3)?), 16)), 3),
                0xd0 => (Elem::Int(sext(le(buf.get(p + 1..p + 5)?), 32)), 5),
                0xe0 => (Elem::Int(le(buf.get(p + 1..p + 9)?) as i64), 9),
                0xf0 => (Elem::Int(sext(le(buf.get(p + 1..p + 4)?), 24)), 4),
                0xfe => (Elem::Int(sext(le(buf.get(p + 1..p + 2)?), 8)), 2),
                0xf1..=0xfd => (Elem::Int(i64::from(e & 0x0f) - 1), 1),
                _ => return None,
            },
        };
        p += len;
        out.push(elem);
    }
    if p != buf.len() - 1 || (declared != 65535 && declared != out.len()) {
        return None;
    }
    Some(out)
}

/// The members of an intset, or None if it is malformed.
pub fn parse_intset(buf: &[u8]) -> Option<Vec<i64>> {
    let enc = usize::try_from(le(buf.get(..4)?)).ok()?;
    let n = usize::try_from(le(buf.get(4..8)?)).ok()?;
    if !matches!(enc, 2 | 4 | 8) || n.checked_mul(enc)?.checked_add(8)? != buf.len() {
        return None;
    }
    Some(buf[8..].chunks_exact(enc).map(|c| sext(le(c), (enc * 8) as u32)).collect())
}

/// The field/value pairs of a zipmap (Redis 2.x hashes), or None if it is malformed.
pub fn parse_zipmap(buf: &[u8]) -> Option<Vec<(Bytes, Bytes)>> {
    let mut p = 1;
    let mut out = Vec::new();
    let read_len = |p: &mut usize| -> Option<Option<usize>> {
        let b = *buf.get(*p)?;
        match b {
            255 => Some(None),
            254 => {
                let n = usize::try_from(le(buf.get(*p + 1..*p + 5)?)).ok()?;
                *p += 5;
                Some(Some(n))
            }
            _ => {
                *p += 1;
                Some(Some(usize::from(b)))
            }
        }
    };
    while let Some(klen) = read_len(&mut p)? {
        let k = buf.get(p..p.checked_add(klen)?)?;
        p += klen;
        let vlen = read_len(&mut p)??;
        let free = usize::from(*buf.get(p)?);
        p += 1;
        let v = buf.get(p..p.checked_add(vlen)?)?;
        p += vlen + free;
        out.push((Bytes::copy_from_slice(k), Bytes::copy_from_slice(v)));
    }
    (p == buf.len() - 1).then_some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn listpack_round_trip() {
        let items: Vec<Vec<u8>> = vec![
            b"".to_vec(),
            b"0".to_vec(),
            b"127".to_vec(),
            b"128".to_vec(),
            b"-1".to_vec(),
            b"-4096".to_vec(),
            b"4095".to_vec(),
            b"40000".to_vec(),
            b"-8388608".to_vec(),
            b"2147483647".to_vec(),
            b"9223372036854775807".to_vec(),
            b"-9223372036854775808".to_vec(),
            b"007".to_vec(),
            vec![b'x'; 63],
            vec![b'y'; 64],
            vec![b'z'; 4095],
            vec![b'w'; 5000],
            vec![b'v'; 20000],
        ];
        let mut w = ListpackWriter::default();
        for i in &items {
            w.push(i);
        }
        let lp = w.finish();
        let back: Vec<Vec<u8>> = parse_listpack(&lp).unwrap().into_iter().map(|e| e.to_bytes().to_vec()).collect();
        assert_eq!(back, items);
        for cut in 0..lp.len() {
            assert!(parse_listpack(&lp[..cut]).is_none());
        }
    }

    #[test]
    fn intset_and_ziplist() {
        let mut is = vec![2, 0, 0, 0, 2, 0, 0, 0];
        is.extend_from_slice(&(-5i16).to_le_bytes());
        is.extend_from_slice(&7i16.to_le_bytes());
        assert_eq!(parse_intset(&is), Some(vec![-5, 7]));
        assert_eq!(parse_intset(&is[..11]), None);
        // A ziplist of "a" and 12 (immediate) and 1000 (int16).
        let mut zl = vec![0; 10];
        zl.extend_from_slice(&[0, 0x01, b'a', 3, 0xfd, 2, 0xc0]);
        zl.extend_from_slice(&1000i16.to_le_bytes());
        zl.push(0xff);
        let n = zl.len() as u32;
        zl[..4].copy_from_slice(&n.to_le_bytes());
        zl[8] = 3;
        let e = parse_ziplist(&zl).unwrap();
        assert_eq!(e, vec![Elem::Str(b"a"), Elem::Int(12), Elem::Int(1000)]);
    }
}
