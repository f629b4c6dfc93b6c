//! Code as the Lambda API sends it (`Code.ZipFile`): a zip archive holding
//! one `.wasm` component, or the component's bytes as they are. Zip entries
//! may be stored or deflated; the DEFLATE decoder (RFC 1951) is here so the
//! host needs no compression dependency.

/// Why the code could not be read.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum ZipError {
    /// The archive is malformed.
    #[error("the zip file is malformed: {0}")]
    Malformed(&'static str),
    /// Not exactly one `.wasm` entry.
    #[error("the zip file must hold exactly one .wasm file; it holds {0}")]
    WasmCount(String),
    /// An entry uses a compression method other than stored or deflate.
    #[error(
        "the zip entry `{0}` uses compression method {1}; only stored (0) and deflate (8) are supported"
    )]
    Method(String, u16),
    /// The deflate stream is corrupt.
    #[error("the zip entry is corrupt: {0}")]
    Inflate(&'static str),
    /// Larger than allowed.
    #[error("the component is larger than {0} bytes")]
    TooLarge(usize),
}

/// The component in `code`: the one `.wasm` of a zip archive, or `code`
/// itself when it is not a zip archive. At most `limit` bytes.
pub fn component_bytes(code: &[u8], limit: usize) -> Result<Vec<u8>, ZipError> {
    if !code.starts_with(b"PK\x03\x04") && !code.starts_with(b"PK\x05\x06") {
        if code.len() > limit {
            return Err(ZipError::TooLarge(limit));
        }
        return Ok(code.to_vec());
    }
    let entries = central_directory(code)?;
    let wasm: Vec<&Entry> = entries
        .iter()
        .filter(|e| e.name.ends_with(".wasm") && !e.name.ends_with('/'))
        .collect();
    let [entry] = wasm.as_slice() else {
        let names: Vec<&str> = wasm.iter().map(|e| e.name.as_str()).collect();
        return Err(ZipError::WasmCount(if names.is_empty() {
            "none".to_string()
        } else {
            names.join(", ")
        }));
    };
    if entry.size > limit {
        return Err(ZipError::TooLarge(limit));
    }
    let data = local_data(code, entry)?;
    match entry.method {
        0 => Ok(data.to_vec()),
        8 => inflate(data, entry.size),
        m => Err(ZipError::Method(entry.name.clone(), m)),
    }
}

struct Entry {
    name: String,
    method: u16,
    compressed: usize,
    size: usize,
    local_offset: usize,
}

fn u16_at(b: &[u8], at: usize) -> Result<u16, ZipError> {
    b.get(at..at + 2)
        .map(|s| u16::from_le_bytes([s[0], s[1]]))
        .ok_or(ZipError::Malformed("truncated"))
}

fn u32_at(b: &[u8], at: usize) -> Result<usize, ZipError> {
    b.get(at..at + 4)
        .map(|s| u32::from_le_bytes([s[0], s[1], s[2], s[3]]) as usize)
        .ok_or(ZipError::Malformed("truncated"))
}

fn central_directory(b: &[u8]) -> Result<Vec<Entry>, ZipError> {
    // The end record is the last 22 bytes plus a comment of up to 64 KiB.
    let lowest = b.len().saturating_sub(22 + 65_535);
    let end = (lowest..=b.len().saturating_sub(22))
        .rev()
        .find(|&i| b[i..].starts_with(b"PK\x05\x06"))
        .ok_or(ZipError::Malformed("no end of central directory"))?;
    let count = usize::from(u16_at(b, end + 10)?);
    let mut at = u32_at(b, end + 16)?;
    let mut entries = Vec::with_capacity(count);
    for _ in 0..count {
        if u32_at(b, at)? != 0x0201_4b50 {
            return Err(ZipError::Malformed("bad central directory entry"));
        }
        let name_len = usize::from(u16_at(b, at + 28)?);
        let extra_len = usize::from(u16_at(b, at + 30)?);
        let comment_len = usize::from(u16_at(b, at + 32)?);
        let name = b
            .get(at + 46..at + 46 + name_len)
            .ok_or(ZipError::Malformed("truncated name"))?;
        entries.push(Entry {
            name: String::from_utf8_lossy(name).into_owned(),
            method: u16_at(b, at + 10)?,
            compressed: u32_at(b, at + 20)?,
            size: u32_at(b, at + 24)?,
            local_offset: u32_at(b, at + 42)?,
        });
        at += 46 + name_len + extra_len + comment_len;
    }
    Ok(entries)
}

fn local_data<'a>(b: &'a [u8], e: &Entry) -> Result<&'a [u8], ZipError> {
    let at = e.local_offset;
    if u32_at(b, at)? != 0x0403_4b50 {
        return Err(ZipError::Malformed("bad local header"));
    }
    let start = at + 30 + usize::from(u16_at(b, at + 26)?) + usize::from(u16_at(b, at + 28)?);
    b.get(start..start + e.compressed)
        .ok_or(ZipError::Malformed("truncated entry"))
}

const LEN_BASE: [u16; 29] = [
    3, 4, 5, 6, 7, 8, 9, 10, 11, 13, 15, 17, 19, 23, 27, 31, 35, 43, 51, 59, 67, 83, 99, 115, 131,
    163, 195, 227, 258,
];
const LEN_EXTRA: [u8; 29] = [
    0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 2, 2, 2, 2, 3, 3, 3, 3, 4, 4, 4, 4, 5, 5, 5, 5, 0,
];
const DIST_BASE: [u16; 30] = [
    1, 2, 3, 4, 5, 7, 9, 13, 17, 25, 33, 49, 65, 97, 129, 193, 257, 385, 513, 769, 1025, 1537,
    2049, 3073, 4097, 6145, 8193, 12289, 16385, 24577,
];
const DIST_EXTRA: [u8; 30] = [
    0, 0, 0, 0, 1, 1, 2, 2, 3, 3, 4, 4, 5, 5, 6, 6, 7, 7, 8, 8, 9, 9, 10, 10, 11, 11, 12, 12, 13,
    13,
];
/// The order code-length code lengths are sent in.
const CL_ORDER: [usize; 19] = [
    16, 17, 18, 0, 8, 7, 9, 6, 10, 5, 11, 4, 12, 3, 13, 2, 14, 1, 15,
];

struct Bits<'a> {
    data: &'a [u8],
    pos: usize,
    buf: u32,
    count: u32,
}

impl Bits<'_> {
    fn get(&mut self, n: u32) -> Result<u32, ZipError> {
        while self.count < n {
            let byte = *self
                .data
                .get(self.pos)
                .ok_or(ZipError::Inflate("unexpected end of data"))?;
            self.pos += 1;
            self.buf |= u32::from(byte) << self.count;
            self.count += 8;
        }
        let v = self.buf & ((1u32 << n) - 1);
        self.buf >>= n;
        self.count -= n;
        Ok(v)
    }
}

/// A canonical Huffman code: how many codes of each length, and the
/// symbols in code order.
struct Huffman {
    counts: [u16; 16],
    symbols: Vec<u16>,
}

impl Huffman {
    fn new(lengths: &[u8]) -> Result<Self, ZipError> {
        let mut counts = [0u16; 16];
        for &l in lengths {
            counts[usize::from(l)] += 1;
        }
        counts[0] = 0;
        let mut offsets = [0u16; 16];
        for len in 1..15 {
            offsets[len + 1] = offsets[len] + counts[len];
        }
        let mut symbols = vec![0u16; lengths.len()];
        for (sym, &l) in lengths.iter().enumerate() {
            if l != 0 {
                let slot = &mut offsets[usize::from(l)];
                *symbols
                    .get_mut(usize::from(*slot))
                    .ok_or(ZipError::Inflate("bad code lengths"))? = sym as u16;
                *slot += 1;
            }
        }
        Ok(Huffman { counts, symbols })
    }

    fn decode(&self, bits: &mut Bits<'_>) -> Result<u16, ZipError> {
        let (mut code, mut first, mut index) = (0i32, 0i32, 0i32);
        for len in 1..16 {
            code |= bits.get(1)? as i32;
            let count = i32::from(self.counts[len]);
            if code - count < first {
                let i = usize::try_from(index + (code - first))
                    .map_err(|_| ZipError::Inflate("bad code"))?;
                return self
                    .symbols
                    .get(i)
                    .copied()
                    .ok_or(ZipError::Inflate("bad code"));
            }
            index += count;
            first += count;
            first <<= 1;
            code <<= 1;
        }
        Err(ZipError::Inflate("bad code"))
    }
}

/// Decodes a raw DEFLATE stream of at most `limit` bytes of output.
pub fn inflate(data: &[u8], limit: usize) -> Result<Vec<u8>, ZipError> {
    let mut out = Vec::with_capacity(limit.min(64 << 20));
    let mut bits = Bits {
        data,
        pos: 0,
        buf: 0,
        count: 0,
    };
    loop {
        let last = bits.get(1)? == 1;
        match bits.get(2)? {
            0 => {
                bits.buf = 0;
                bits.count = 0;
                let p = bits.pos;
                let len = usize::from(u16_at(data, p).map_err(|_| ZipError::Inflate("truncated"))?);
                bits.pos += 4;
                let chunk = data
                    .get(bits.pos..bits.pos + len)
                    .ok_or(ZipError::Inflate("truncated stored block"))?;
                out.extend_from_slice(chunk);
                bits.pos += len;
            }
            1 => {
                let mut l = [8u8; 288];
                l[144..256].fill(9);
                l[256..280].fill(7);
                let lit = Huffman::new(&l)?;
                let dist = Huffman::new(&[5u8; 30])?;
                codes(&mut bits, &mut out, &lit, &dist, limit)?;
            }
            2 => {
                let (lit, dist) = dynamic_tables(&mut bits)?;
                codes(&mut bits, &mut out, &lit, &dist, limit)?;
            }
            _ => return Err(ZipError::Inflate("bad block type")),
        }
        if out.len() > limit {
            return Err(ZipError::TooLarge(limit));
        }
        if last {
            return Ok(out);
        }
    }
}

fn dynamic_tables(bits: &mut Bits<'_>) -> Result<(Huffman, Huffman), ZipError> {
    let nlen = bits.get(5)? as usize + 257;
    let ndist = bits.get(5)? as usize + 1;
    let ncode = bits.get(4)? as usize + 4;
    if nlen > 286 || ndist > 30 {
        return Err(ZipError::Inflate("bad table sizes"));
    }
    let mut cl = [0u8; 19];
    for &i in &CL_ORDER[..ncode] {
        cl[i] = bits.get(3)? as u8;
    }
    let clh = Huffman::new(&cl)?;
    let mut lengths = Vec::with_capacity(nlen + ndist);
    while lengths.len() < nlen + ndist {
        let sym = clh.decode(bits)?;
        let (value, repeat) = match sym {
            0..=15 => (sym as u8, 1),
            16 => (
                *lengths
                    .last()
                    .ok_or(ZipError::Inflate("repeat with no length"))?,
                3 + bits.get(2)? as usize,
            ),
            17 => (0, 3 + bits.get(3)? as usize),
            _ => (0, 11 + bits.get(7)? as usize),
        };
        if lengths.len() + repeat > nlen + ndist {
            return Err(ZipError::Inflate("too many lengths"));
        }
        lengths.extend(std::iter::repeat_n(value, repeat));
    }
    Ok((
        Huffman::new(&lengths[..nlen])?,
        Huffman::new(&lengths[nlen..])?,
    ))
}

fn codes(
    bits: &mut Bits<'_>,
    out: &mut Vec<u8>,
    lit: &Huffman,
    dist: &Huffman,
    limit: usize,
) -> Result<(), ZipError> {
    loop {
        let sym = lit.decode(bits)?;
        match sym {
            0..=255 => out.push(sym as u8),
            256 => return Ok(()),
            _ => {
                let i = usize::from(sym - 257);
                let len = usize::from(*LEN_BASE.get(i).ok_or(ZipError::Inflate("bad length"))?)
                    + bits.get(u32::from(LEN_EXTRA[i]))? as usize;
                let d = usize::from(dist.decode(bits)?);
                let back = usize::from(*DIST_BASE.get(d).ok_or(ZipError::Inflate("bad distance"))?)
                    + bits.get(u32::from(DIST_EXTRA[d]))? as usize;
                if back > out.len() {
                    return Err(ZipError::Inflate("distance too far back"));
                }
                let start = out.len() - back;
                for k in 0..len {
                    out.push(out[start + k]);
                }
            }
        }
        if out.len() > limit {
            return Err(ZipError::TooLarge(limit));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn raw_bytes_pass_through() {
        assert_eq!(
            component_bytes(b"\0asm\x0d\0\x01\0", 100),
            Ok(b"\0asm\x0d\0\x01\0".to_vec())
        );
        assert_eq!(
            component_bytes(b"\0asm\x0d\0\x01\0", 4),
            Err(ZipError::TooLarge(4))
        );
    }

    #[test]
    fn inflates_a_fixed_huffman_block() {
        // zlib.compressobj(9, DEFLATED, -15) of the text below.
        let data = [
            203, 72, 205, 201, 201, 87, 200, 64, 39, 117, 20, 146, 243, 115, 11, 242, 243, 82, 243,
            74, 20, 51, 168, 162, 4, 0,
        ];
        let want = b"hello hello hello hello, component!".repeat(3);
        assert_eq!(inflate(&data, 1000), Ok(want));
        assert!(inflate(&data, 10).is_err());
    }

    #[test]
    fn reads_a_stored_zip_with_one_wasm() {
        let wasm = b"\0asm\x0d\0\x01\0";
        let zip = stored_zip(&[("README", b"hi"), ("f.wasm", wasm)]);
        assert_eq!(component_bytes(&zip, 100), Ok(wasm.to_vec()));
        let none = stored_zip(&[("README", b"hi")]);
        assert_eq!(
            component_bytes(&none, 100),
            Err(ZipError::WasmCount("none".into()))
        );
    }

    /// A zip with stored entries.
    fn stored_zip(files: &[(&str, &[u8])]) -> Vec<u8> {
        let mut out = Vec::new();
        let mut central = Vec::new();
        for (name, data) in files {
            let offset = out.len() as u32;
            let mut h = Vec::new();
            h.extend_from_slice(&0x0403_4b50u32.to_le_bytes());
            h.extend_from_slice(&[20, 0, 0, 0, 0, 0, 0, 0, 0, 0]);
            h.extend_from_slice(&0u32.to_le_bytes()); // crc (unchecked)
            h.extend_from_slice(&(data.len() as u32).to_le_bytes());
            h.extend_from_slice(&(data.len() as u32).to_le_bytes());
            h.extend_from_slice(&(name.len() as u16).to_le_bytes());
            h.extend_from_slice(&0u16.to_le_bytes());
            h.extend_from_slice(name.as_bytes());
            out.extend_from_slice(&h);
            out.extend_from_slice(data);
            central.extend_from_slice(&0x0201_4b50u32.to_le_bytes());
            central.extend_from_slice(&[20, 0, 20, 0, 0, 0, 0, 0, 0, 0, 0, 0]);
            central.extend_from_slice(&0u32.to_le_bytes());
            central.extend_from_slice(&(data.len() as u32).to_le_bytes());
            central.extend_from_slice(&(data.len() as u32).to_le_bytes());
            central.extend_from_slice(&(name.len() as u16).to_le_bytes());
            central.extend_from_slice(&[0; 12]);
            central.extend_from_slice(&offset.to_le_bytes());
            central.extend_from_slice(name.as_bytes());
        }
        let cd_offset = out.len() as u32;
        out.extend_from_slice(&central);
        out.extend_from_slice(&0x0605_4b50u32.to_le_bytes());
        out.extend_from_slice(&[0, 0, 0, 0]);
        out.extend_from_slice(&(files.len() as u16).to_le_bytes());
        out.extend_from_slice(&(files.len() as u16).to_le_bytes());
        out.extend_from_slice(&(central.len() as u32).to_le_bytes());
        out.extend_from_slice(&cd_offset.to_le_bytes());
        out.extend_from_slice(&0u16.to_le_bytes());
        out
    }
}
