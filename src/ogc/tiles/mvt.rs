//! The Mapbox Vector Tile protobuf writer: varints, geometry commands, one layer with its key and value tables.

use super::*;

/// Protobuf wire types used by the vector tile messages.
pub(super) const LEN: u32 = 2;
pub(super) const VARINT: u32 = 0;
pub(super) const I64: u32 = 1;

/// Appends `v` as a protobuf varint.
pub(super) fn put_varint(out: &mut Vec<u8>, mut v: u64) {
    while v >= 0x80 {
        out.push((v as u8) | 0x80);
        v >>= 7;
    }
    out.push(v as u8);
}

/// Bytes `v` takes as a varint.
pub(super) fn varint_len(v: u64) -> usize {
    // 1 byte per started 7 bits, at least 1.
    (64 - (v | 1).leading_zeros()).div_ceil(7) as usize
}

/// Appends a field key (field number and wire type).
pub(super) fn put_key(out: &mut Vec<u8>, field: u32, wire: u32) {
    put_varint(out, u64::from(field << 3 | wire));
}

/// Appends a length-delimited field holding `bytes`.
pub(super) fn put_bytes(out: &mut Vec<u8>, field: u32, bytes: &[u8]) {
    put_key(out, field, LEN);
    put_varint(out, bytes.len() as u64);
    out.extend_from_slice(bytes);
}

/// Appends a packed repeated `uint32` field (omitted when empty).
pub(super) fn put_packed(out: &mut Vec<u8>, field: u32, values: &[u32]) {
    if values.is_empty() {
        return;
    }
    put_key(out, field, LEN);
    let len: usize = values.iter().map(|&v| varint_len(u64::from(v))).sum();
    put_varint(out, len as u64);
    for &v in values {
        put_varint(out, u64::from(v));
    }
}

/// MVT geometry commands (vector_tile.proto, section 4.3).
pub(super) const MOVE_TO: u32 = 1;
pub(super) const LINE_TO: u32 = 2;
pub(super) const CLOSE_PATH: u32 = 7;
/// `Feature.type` values.
pub(super) const POINT: u32 = 1;
pub(super) const POLYGON: u32 = 3;

pub(super) fn command(id: u32, count: u32) -> u32 {
    id | count << 3
}

pub(super) fn zigzag(v: i32) -> u32 {
    ((v << 1) ^ (v >> 31)) as u32
}

/// Writes geometry commands, each position relative to the previous one
/// as MVT requires.
#[derive(Default)]
pub(super) struct GeomWriter {
    pub(super) data: Vec<u32>,
    pub(super) cursor: [i32; 2],
}

impl GeomWriter {
    pub(super) fn clear(&mut self) {
        self.data.clear();
        self.cursor = [0, 0];
    }

    pub(super) fn param(&mut self, p: [i32; 2]) {
        // Tile coordinates stay within ±2^13 of the tile, so no overflow.
        self.data.push(zigzag(p[0] - self.cursor[0]));
        self.data.push(zigzag(p[1] - self.cursor[1]));
        self.cursor = p;
    }

    pub(super) fn point(&mut self, p: [i32; 2]) {
        self.data.push(command(MOVE_TO, 1));
        self.param(p);
    }

    /// One ring (at least 3 vertices, no closing copy): every ring gets its
    /// own MoveTo, even one starting where the previous ring ended.
    pub(super) fn ring(&mut self, ring: &[[i32; 2]]) {
        self.data.push(command(MOVE_TO, 1));
        self.param(ring[0]);
        self.data.push(command(LINE_TO, (ring.len() - 1) as u32));
        for &p in &ring[1..] {
            self.param(p);
        }
        self.data.push(command(CLOSE_PATH, 1));
    }
}

/// The value of one feature property. Strings borrow from the data the
/// tile is built from, so the layer's value table needs no copies.
#[derive(Clone, Copy)]
pub(super) enum Val<'a> {
    Str(&'a str),
    Double(f64),
    Bool(bool),
}

/// FNV-1a for the value tables' hash maps: the keys are short strings and
/// numbers from our own data, where SipHash's flooding defence only costs.
#[derive(Default, Clone, Copy)]
pub(super) struct Fnv(u64);

impl std::hash::Hasher for Fnv {
    fn finish(&self) -> u64 {
        self.0
    }
    fn write(&mut self, bytes: &[u8]) {
        let mut h = if self.0 == 0 {
            0xcbf2_9ce4_8422_2325
        } else {
            self.0
        };
        for &b in bytes {
            h ^= u64::from(b);
            h = h.wrapping_mul(0x0000_0100_0000_01b3);
        }
        self.0 = h;
    }
}

pub(super) type FnvMap<K> = HashMap<K, u32, std::hash::BuildHasherDefault<Fnv>>;

/// Builds one MVT layer straight into protobuf bytes. Keys are a fixed
/// list given up front, entered in the layer's key table on first use;
/// values are deduplicated by type and value, as the spec asks.
pub(super) struct LayerWriter<'a> {
    pub(super) name: &'a str,
    pub(super) keys: &'static [&'static str],
    /// Per entry of `keys`, its index in the layer's key table (or MAX).
    pub(super) key_index: Vec<u32>,
    pub(super) key_count: u32,
    pub(super) key_bytes: Vec<u8>,
    pub(super) value_count: u32,
    pub(super) value_bytes: Vec<u8>,
    pub(super) strings: FnvMap<&'a str>,
    pub(super) doubles: FnvMap<u64>,
    pub(super) bools: [u32; 2],
    pub(super) features: usize,
    pub(super) feature_bytes: Vec<u8>,
    /// Scratch for the feature being written, reused.
    pub(super) tags: Vec<u32>,
    pub(super) body: Vec<u8>,
    pub(super) geom: GeomWriter,
}

impl<'a> LayerWriter<'a> {
    pub(super) fn new(name: &'a str, keys: &'static [&'static str]) -> LayerWriter<'a> {
        LayerWriter {
            name,
            keys,
            key_index: vec![u32::MAX; keys.len()],
            key_count: 0,
            key_bytes: Vec::new(),
            value_count: 0,
            value_bytes: Vec::new(),
            strings: FnvMap::default(),
            doubles: FnvMap::default(),
            bools: [u32::MAX; 2],
            features: 0,
            feature_bytes: Vec::new(),
            tags: Vec::new(),
            body: Vec::new(),
            geom: GeomWriter::default(),
        }
    }

    /// Appends a `Value` message to the layer's value table.
    pub(super) fn push_value(&mut self, v: Val<'a>) -> u32 {
        let mut inner = [0u8; 10];
        let out = &mut self.value_bytes;
        match v {
            Val::Str(s) => {
                let len = 1 + varint_len(s.len() as u64) + s.len();
                put_key(out, 4, LEN);
                put_varint(out, len as u64);
                put_bytes(out, 1, s.as_bytes());
            }
            Val::Double(d) => {
                inner[0] = (3 << 3 | I64) as u8;
                inner[1..9].copy_from_slice(&d.to_le_bytes());
                put_bytes(out, 4, &inner[..9]);
            }
            Val::Bool(b) => {
                inner[0] = (7 << 3 | VARINT) as u8;
                inner[1] = u8::from(b);
                put_bytes(out, 4, &inner[..2]);
            }
        }
        self.value_count += 1;
        self.value_count - 1
    }

    /// Adds property `key` (an index into the `keys` given) to the feature
    /// being written.
    pub(super) fn tag(&mut self, key: usize, v: Val<'a>) {
        let mut k = self.key_index[key];
        if k == u32::MAX {
            k = self.key_count;
            self.key_count += 1;
            self.key_index[key] = k;
            put_bytes(&mut self.key_bytes, 3, self.keys[key].as_bytes());
        }
        let found = match v {
            Val::Str(s) => self.strings.get(s).copied(),
            Val::Double(d) => self.doubles.get(&d.to_bits()).copied(),
            Val::Bool(b) => Some(self.bools[usize::from(b)]).filter(|&i| i != u32::MAX),
        };
        let i = match found {
            Some(i) => i,
            None => {
                let i = self.push_value(v);
                match v {
                    Val::Str(s) => {
                        self.strings.insert(s, i);
                    }
                    Val::Double(d) => {
                        self.doubles.insert(d.to_bits(), i);
                    }
                    Val::Bool(b) => self.bools[usize::from(b)] = i,
                }
                i
            }
        };
        self.tags.push(k);
        self.tags.push(i);
    }

    /// Writes the feature whose geometry is in `self.geom` and whose
    /// properties were added with [`LayerWriter::tag`], then clears both.
    pub(super) fn finish_feature(&mut self, id: u64, kind: u32) {
        let body = &mut self.body;
        body.clear();
        put_key(body, 1, VARINT);
        put_varint(body, id);
        put_packed(body, 2, &self.tags);
        put_key(body, 3, VARINT);
        put_varint(body, u64::from(kind));
        put_packed(body, 4, &self.geom.data);
        put_bytes(&mut self.feature_bytes, 2, body);
        self.features += 1;
        self.tags.clear();
        self.geom.clear();
    }

    /// The tile holding this one layer, or `None` when it has no feature.
    pub(super) fn into_tile(self) -> Option<Vec<u8>> {
        if self.features == 0 {
            return None;
        }
        let mut tail = Vec::with_capacity(8);
        put_key(&mut tail, 5, VARINT);
        put_varint(&mut tail, u64::from(EXTENT));
        put_key(&mut tail, 15, VARINT);
        put_varint(&mut tail, 2);
        let name_len = 1 + varint_len(self.name.len() as u64) + self.name.len();
        let layer_len = name_len
            + self.feature_bytes.len()
            + self.key_bytes.len()
            + self.value_bytes.len()
            + tail.len();
        let mut out = Vec::with_capacity(layer_len + 6);
        put_key(&mut out, 3, LEN);
        put_varint(&mut out, layer_len as u64);
        put_bytes(&mut out, 1, self.name.as_bytes());
        out.extend_from_slice(&self.feature_bytes);
        out.extend_from_slice(&self.key_bytes);
        out.extend_from_slice(&self.value_bytes);
        out.extend_from_slice(&tail);
        debug_assert_eq!(out.len(), layer_len + 1 + varint_len(layer_len as u64));
        Some(out)
    }
}
