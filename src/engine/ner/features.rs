//! Feature extraction for the statistical NER tagger: tokens in, hashed feature keys out.
//!
//! Design choices, in the order they matter for speed and accuracy:
//! - **Hashed features, no strings.** Every feature is a 64-bit hash of (template, value), built
//!   from per-token hashes computed once (word, lower-cased word, shapes, affixes). The only
//!   per-token buffer is a reused lower-casing `String`; nothing is allocated per feature. The
//!   hash is FNV-1a plus a splitmix64 finaliser, fixed here forever: the committed model's keys
//!   depend on it, so changing anything that alters a hash must bump [`SCHEMA_VERSION`].
//! - **Local features** (one token and its ±2 window): word, lower-cased word, digit-normalised
//!   word, long and short shape, prefixes and suffixes 1–4, neighbouring words and shapes, word
//!   bigrams, the parts of hyphenated words ("London-based"), and capitalisation *in context*.
//!   News capitalises the first word of a sentence and every word of an all-caps headline
//!   ("SOCCER - JAPAN GET LUCKY WIN"), so "capitalised" only means "name" away from those
//!   positions; the model sees the position and the line type.
//! - **Gazetteers** from `data/` (countries, demonyms, places by kind, organisations by kind,
//!   given names, titles and role nouns), matched as multi-word phrases on exact case and,
//!   separately, case-insensitively (headlines), with the token's B/I/L/U position in the
//!   match. The model learns how far to trust each list; a gazetteer is evidence, not a rule.
//!   An [`EntityDictionary`] of names seen in the training data is matched the same way.
//! - **Document-level evidence without a tagger**: whether the same word appears lower-case
//!   elsewhere in the article ("The" vs "the") or capitalised mid-sentence (a name); the words
//!   around the other occurrences of a capitalised word (context aggregation: "Pirelli 's" and
//!   "Pirelli is linking" elsewhere say what "PIRELLI" in a headline is); and the wire desk slug
//!   ("SOCCER - ..."), under which a city name is usually a team.
//! - **Non-local features** (second pass, Ratinov & Roth 2009): the labels and BILOU tags the
//!   first pass gave the same word elsewhere in the document (majority, any, earlier
//!   occurrences; only votes with confidence >= [`NL_MIN_CONFIDENCE`]) plus the first pass's
//!   own tags around the token. "Blackburn" alone is a person when "Peter Blackburn" was tagged
//!   PER two sentences earlier.
//!
//! Each addition above was kept because it raised the mean development F1 over several
//! training seeds (single runs differ by ±0.3 points); word-class lists, document truecasing
//! and a seed ensemble were tried and did not help.

use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hasher};
use std::sync::OnceLock;

use super::model::N_TAGS;

/// Bump when any feature definition or the hash changes: a model trained with another schema
/// would silently score garbage, so loading refuses it.
pub const SCHEMA_VERSION: u32 = 1;

/// Tokens longer than this (in chars) only contribute their first `MAX_SHAPE_CHARS` to the
/// shape; words and affixes are hashed whole, which is linear and allocation-free.
const MAX_SHAPE_CHARS: usize = 12;

/// Longest gazetteer phrase considered, in tokens.
const MAX_GAZ_TOKENS: usize = 8;

// ---------------------------------------------------------------------------------------------
// Hashing

const GOLDEN: u64 = 0x9E37_79B9_7F4A_7C15;

/// splitmix64 finaliser: spreads FNV's weak low bits so `hash & mask` indexes a table well.
#[inline]
fn mix(mut x: u64) -> u64 {
    x = (x ^ (x >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    x = (x ^ (x >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    x ^ (x >> 31)
}

const FNV_OFFSET: u64 = 0xCBF2_9CE4_8422_2325;
const FNV_PRIME: u64 = 0x0000_0100_0000_01B3;

#[inline]
fn fnv_step(h: u64, b: u8) -> u64 {
    (h ^ u64::from(b)).wrapping_mul(FNV_PRIME)
}

/// Stable hash of a byte string.
#[inline]
pub fn hash_bytes(bytes: &[u8]) -> u64 {
    let mut h = FNV_OFFSET;
    for &b in bytes {
        h = fnv_step(h, b);
    }
    mix(h)
}

#[inline]
fn hash_str(s: &str) -> u64 {
    hash_bytes(s.as_bytes())
}

/// Order-sensitive combination of two hashes (phrases, bigrams, conjunctions).
#[inline]
fn combine(a: u64, b: u64) -> u64 {
    mix(a.rotate_left(23) ^ b.wrapping_mul(GOLDEN))
}

/// The key of one feature. Never 0: the model's hash table uses 0 for an empty slot.
#[inline]
pub fn feature_key(template: Template, value: u64) -> u64 {
    let h = mix(value ^ (template as u64 + 1).wrapping_mul(GOLDEN));
    if h == 0 {
        1
    } else {
        h
    }
}

/// `Hasher` for keys that are already uniform 64-bit hashes.
#[derive(Default, Clone, Copy)]
pub struct PrehashedHasher(u64);

impl Hasher for PrehashedHasher {
    fn finish(&self) -> u64 {
        self.0
    }
    fn write(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.0 = fnv_step(self.0, b);
        }
    }
    fn write_u64(&mut self, n: u64) {
        self.0 = n;
    }
}

/// A `HashMap` keyed by precomputed hashes.
pub type PrehashedMap<V> = HashMap<u64, V, BuildHasherDefault<PrehashedHasher>>;

// ---------------------------------------------------------------------------------------------
// Templates

/// Feature templates. The discriminant is part of every feature's hash: append new ones at the
/// end (and bump [`SCHEMA_VERSION`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(u16)]
pub enum Template {
    Bias,
    Word,
    Lower,
    DigitNorm,
    Shape,
    ShortShape,
    Prefix1,
    Prefix2,
    Prefix3,
    Prefix4,
    Suffix1,
    Suffix2,
    Suffix3,
    Suffix4,
    LowerM1,
    LowerP1,
    LowerM2,
    LowerP2,
    WordM1,
    WordP1,
    ShortShapeM1,
    ShortShapeP1,
    ShortShapeM2,
    ShortShapeP2,
    BigramM1,
    BigramP1,
    ShapeTrigram,
    CapContext,
    CapContextShapeP1,
    LowerM1Shape,
    ShapeLowerP1,
    GazExact,
    GazFolded,
    GazM1,
    GazP1,
    DocCase,
    PositionLength,
    CapContextLower,
    // Non-local (second pass) templates.
    NlMajority,
    NlMajorityCap,
    NlAny,
    NlHistory,
    NlSelf,
    NlSelfM1,
    NlSelfP1,
    NlSelfWord,
    HyphenFirst,
    HyphenLast,
    HyphenFirstGaz,
    ContextPrevElsewhere,
    ContextNextElsewhere,
    NlMajorityTag,
    Dictionary,
    TopicGaz,
    TopicShape,
}

// ---------------------------------------------------------------------------------------------
// Gazetteers

/// Gazetteer categories; a phrase may be in several.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(u8)]
enum GazCategory {
    Country = 0,
    Demonym,
    City,
    State,
    Region,
    Water,
    Landform,
    OrgState,
    OrgMedia,
    OrgParty,
    OrgCompany,
    OrgOther,
    OrgSport,
    GivenName,
    Title,
    Role,
}

const GAZ_CATEGORIES: usize = 16;

/// Phrase tables built once from the readable gazetteers in `data/`.
pub struct Gazetteers {
    /// Phrase hash over exact-case token hashes -> category bit mask.
    exact: PrehashedMap<u16>,
    /// Phrase hash over lower-cased token hashes -> category bit mask.
    folded: PrehashedMap<u16>,
    max_tokens: usize,
}

const COUNTRIES: &str = include_str!("../../../data/countries.tsv");
const PLACES: &str = include_str!("../../../data/places.tsv");
const ORGANIZATIONS: &str = include_str!("../../../data/organizations.tsv");
const GIVEN_NAMES: &str = include_str!("../../../data/given_names.txt");
const TITLES: &str = include_str!("../../../data/titles.tsv");

/// A hash of the gazetteer entries compiled in (not of the files: comment and order edits do
/// not count). The model records the value it was trained with: gazetteer matches are
/// features, so after large edits to those lists the model should be retrained (a few added
/// names only add evidence the model already knows how to weigh).
pub fn gazetteer_fingerprint() -> u64 {
    let gaz = Gazetteers::embedded();
    let mut entries: Vec<(u64, u16)> = gaz
        .exact
        .iter()
        .chain(gaz.folded.iter())
        .map(|(&k, &m)| (k, m))
        .collect();
    entries.sort_unstable();
    entries
        .iter()
        .fold(0, |h, &(k, m)| combine(combine(h, k), u64::from(m)))
}

impl Gazetteers {
    /// The gazetteers compiled into the binary, parsed on first use.
    pub fn embedded() -> &'static Gazetteers {
        static GAZ: OnceLock<Gazetteers> = OnceLock::new();
        GAZ.get_or_init(Gazetteers::from_data)
    }

    fn from_data() -> Gazetteers {
        let mut gaz = Gazetteers {
            exact: PrehashedMap::default(),
            folded: PrehashedMap::default(),
            max_tokens: 1,
        };
        for cols in data_rows(COUNTRIES) {
            for name in values(cols.get(1)).chain(values(cols.get(2))) {
                gaz.add(name, GazCategory::Country);
            }
            for name in values(cols.get(3)).chain(values(cols.get(4))) {
                gaz.add(name, GazCategory::Demonym);
            }
        }
        for cols in data_rows(PLACES) {
            let category = match cols.get(1).copied().unwrap_or("") {
                "CAPITAL" | "CITY" => GazCategory::City,
                "STATE" => GazCategory::State,
                "WATER" => GazCategory::Water,
                "LANDFORM" => GazCategory::Landform,
                _ => GazCategory::Region,
            };
            for name in values(cols.first()).chain(values(cols.get(3))) {
                gaz.add(name, category);
            }
        }
        for cols in data_rows(ORGANIZATIONS) {
            let category = match cols.get(1).copied().unwrap_or("") {
                "GOV" | "MIL" | "REB" | "IGO" => GazCategory::OrgState,
                "MEDIA" => GazCategory::OrgMedia,
                "PARTY" => GazCategory::OrgParty,
                "COMPANY" => GazCategory::OrgCompany,
                "SPORT" => GazCategory::OrgSport,
                _ => GazCategory::OrgOther,
            };
            // A parenthesised qualifier ("Vox (Spain)") marks a canonical name that is not
            // itself expected in text; its aliases are.
            let canonical = values(cols.first()).filter(|name| !name.contains('('));
            for name in canonical.chain(values(cols.get(4))) {
                gaz.add(name, category);
            }
        }
        for line in GIVEN_NAMES.lines() {
            let line = line.trim();
            if !line.is_empty() && !line.starts_with('#') {
                gaz.add(line, GazCategory::GivenName);
            }
        }
        for cols in data_rows(TITLES) {
            let category = match cols.get(2).copied().unwrap_or("") {
                "ROLE" => GazCategory::Role,
                _ => GazCategory::Title,
            };
            for name in values(cols.first()) {
                gaz.add(name, category);
                // Titles are listed lower-case; before a name they are capitalised.
                let mut capitalised = String::with_capacity(name.len());
                let mut chars = name.chars();
                if let Some(first) = chars.next() {
                    capitalised.extend(first.to_uppercase());
                    capitalised.push_str(chars.as_str());
                    gaz.add(&capitalised, category);
                }
            }
        }
        gaz
    }

    fn add(&mut self, phrase: &str, category: GazCategory) {
        let mut exact = 0u64;
        let mut folded = 0u64;
        let mut n = 0;
        let mut lower = String::new();
        if phrase.split_whitespace().count() > MAX_GAZ_TOKENS {
            return;
        }
        for word in phrase.split_whitespace() {
            // Every proper prefix is entered with an empty mask, so matching stops at the
            // first word that continues no phrase (one lookup for most tokens).
            if n > 0 {
                self.exact.entry(exact).or_insert(0);
                self.folded.entry(folded).or_insert(0);
            }
            lower_into(word, &mut lower);
            exact = combine(exact, hash_str(word));
            folded = combine(folded, hash_str(&lower));
            n += 1;
        }
        if n == 0 {
            return;
        }
        self.max_tokens = self.max_tokens.max(n);
        let bit = 1u16 << (category as u8);
        *self.exact.entry(exact).or_insert(0) |= bit;
        *self.folded.entry(folded).or_insert(0) |= bit;
    }

    /// Marks every token covered by the longest match starting at each position; the result
    /// per token is a 64-bit set of (category × B/I/L/U position) bits.
    fn mark(&self, exact: &[u64], folded: &[u64], out_exact: &mut [u64], out_folded: &mut [u64]) {
        let n = exact.len();
        for start in 0..n {
            let mut he = 0u64;
            let mut hf = 0u64;
            let mut best_exact = None;
            let mut best_folded = None;
            let (mut open_exact, mut open_folded) = (true, true);
            for len in 1..=self.max_tokens.min(n - start) {
                if open_exact {
                    he = combine(he, exact[start + len - 1]);
                    match self.exact.get(&he) {
                        Some(&0) => {}
                        Some(&mask) => best_exact = Some((len, mask)),
                        None => open_exact = false,
                    }
                }
                if open_folded {
                    hf = combine(hf, folded[start + len - 1]);
                    match self.folded.get(&hf) {
                        Some(&0) => {}
                        Some(&mask) => best_folded = Some((len, mask)),
                        None => open_folded = false,
                    }
                }
                if !open_exact && !open_folded {
                    break;
                }
            }
            if let Some((len, mask)) = best_exact {
                set_span_bits(&mut out_exact[start..start + len], mask);
            }
            if let Some((len, mask)) = best_folded {
                set_span_bits(&mut out_folded[start..start + len], mask);
            }
        }
    }
}

/// Entity strings seen in annotated training text, with the labels they had (bit per label
/// index 0..4 = PER, ORG, LOC, MISC). Word features already memorise single words; this adds
/// whole multi-word names and where a token sits in one ("Boston Red Sox", "New York
/// Yankees"). Training builds it per jackknife fold so a document never sees its own names.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct EntityDictionary {
    phrases: PrehashedMap<u8>,
    max_tokens: usize,
}

impl EntityDictionary {
    pub fn new() -> Self {
        Self::default()
    }

    /// Records a name (its tokens as written) with a label index 0..4.
    pub fn add<S: AsRef<str>>(&mut self, tokens: &[S], label: usize) {
        if tokens.is_empty() || tokens.len() > MAX_GAZ_TOKENS || label >= 4 {
            return;
        }
        // Proper prefixes get an empty mask so that matching can stop early (see
        // `Gazetteers::add`).
        let mut hash = 0u64;
        for (i, t) in tokens.iter().enumerate() {
            if i > 0 {
                self.phrases.entry(hash).or_insert(0);
            }
            hash = combine(hash, hash_str(t.as_ref()));
        }
        *self.phrases.entry(hash).or_insert(0) |= 1 << label;
        self.max_tokens = self.max_tokens.max(tokens.len());
    }

    pub fn len(&self) -> usize {
        self.phrases.len()
    }

    pub fn is_empty(&self) -> bool {
        self.phrases.is_empty()
    }

    pub fn max_tokens(&self) -> usize {
        self.max_tokens
    }

    /// (phrase hash, label bits), sorted by hash for a deterministic file.
    pub fn entries(&self) -> Vec<(u64, u8)> {
        let mut out: Vec<(u64, u8)> = self.phrases.iter().map(|(&h, &m)| (h, m)).collect();
        out.sort_unstable();
        out
    }

    pub fn from_entries(entries: impl IntoIterator<Item = (u64, u8)>, max_tokens: usize) -> Self {
        EntityDictionary {
            phrases: entries.into_iter().collect(),
            max_tokens: max_tokens.min(MAX_GAZ_TOKENS),
        }
    }

    /// Per token, (label × B/I/L/U) bits of the longest match starting at each position.
    fn mark(&self, words: &[u64], out: &mut [u16]) {
        let n = words.len();
        for start in 0..n {
            let mut h = 0u64;
            let mut best = None;
            for len in 1..=self.max_tokens.min(n - start) {
                h = combine(h, words[start + len - 1]);
                match self.phrases.get(&h) {
                    Some(&0) => {}
                    Some(&mask) => best = Some((len, mask)),
                    None => break,
                }
            }
            let Some((len, mask)) = best else { continue };
            for (i, bits) in out[start..start + len].iter_mut().enumerate() {
                let position = match (len, i) {
                    (1, _) => 3,
                    (_, 0) => 0,
                    (_, i) if i + 1 == len => 2,
                    _ => 1,
                };
                for label in 0..4 {
                    if mask & (1 << label) != 0 {
                        *bits |= 1 << (label * 4 + position);
                    }
                }
            }
        }
    }
}

/// Non-comment rows of a tab-separated data file, split into columns.
fn data_rows(text: &'static str) -> impl Iterator<Item = Vec<&'static str>> {
    text.lines()
        .filter(|line| !line.starts_with('#') && !line.trim().is_empty())
        .map(|line| line.split('\t').map(str::trim).collect())
}

/// The `|`-separated values of one column; `-` means none.
fn values<'a>(col: Option<&&'a str>) -> impl Iterator<Item = &'a str> {
    col.copied()
        .unwrap_or("-")
        .split('|')
        .map(str::trim)
        .filter(|v| !v.is_empty() && *v != "-")
}

fn set_span_bits(tokens: &mut [u64], mask: u16) {
    let len = tokens.len();
    for (i, bits) in tokens.iter_mut().enumerate() {
        let position = match (len, i) {
            (1, _) => 3,                 // U
            (_, 0) => 0,                 // B
            (_, i) if i + 1 == len => 2, // L
            _ => 1,                      // I
        };
        for category in 0..GAZ_CATEGORIES {
            if mask & (1 << category) != 0 {
                *bits |= 1u64 << (category * 4 + position);
            }
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Per-token facts

/// What the extractor knows about one token, computed once per document.
#[derive(Debug, Clone, Copy, Default)]
pub struct TokenInfo {
    pub word: u64,
    pub lower: u64,
    pub digit_norm: u64,
    pub shape: u64,
    pub short_shape: u64,
    pub prefix: [u64; 4],
    pub suffix: [u64; 4],
    /// Number of chars (for which affixes exist).
    pub chars: u32,
    pub flags: u16,
    pub gaz_exact: u64,
    pub gaz_folded: u64,
    /// For hyphenated words ("London-based", "pro-Moscow"): the lower-cased first and last
    /// parts, the exact-case first part, and the gazetteer categories of the parts.
    pub hyphen_first: u64,
    pub hyphen_last: u64,
    pub hyphen_first_exact: u64,
    pub hyphen_last_exact: u64,
    pub hyphen_gaz: u16,
}

/// Token flags.
pub mod flag {
    pub const INIT_CAP: u16 = 1;
    pub const ALL_CAPS: u16 = 2;
    pub const HAS_DIGIT: u16 = 4;
    pub const HAS_LOWER: u16 = 8;
    pub const HAS_ALPHA: u16 = 16;
    /// First word of the sentence, after any opening punctuation.
    pub const SENTENCE_INITIAL: u16 = 32;
    /// The sentence has letters but no lower-case letter: a headline in capitals.
    pub const CAPS_LINE: u16 = 64;
    pub const PUNCT: u16 = 128;
}

/// The tokens of one document with everything the feature templates need.
pub struct DocumentTokens {
    pub tokens: Vec<TokenInfo>,
    /// Token index where each sentence starts; `sentence_starts.len()` = sentences + 1.
    pub sentence_starts: Vec<usize>,
    /// Case evidence per lower-cased form: (lower-case occurrences, capitalised mid-sentence
    /// occurrences).
    case_counts: PrehashedMap<(u32, u32)>,
    /// Capitalised tokens grouped by lower-cased form: token indices, in document order.
    occurrences: PrehashedMap<Vec<u32>>,
    /// The desk slug of a wire story ("SOCCER - ...", "TENNIS - ..." headlines), hashed; 0
    /// when there is none. On the sports wire a city name is usually a team (ORG).
    topic: u64,
}

/// Whether a token has typography the training data (CoNLL-2003, plain ASCII) never shows.
fn needs_conll_form(word: &str) -> bool {
    word.bytes().any(|b| b == b'"' || b >= 0x80)
}

/// The token as CoNLL-2003 would have written it: Reuters' text there uses `'` for every
/// quotation mark and apostrophe and `--` / `-` for dashes, so curly quotes ("Ukraine’s",
/// “ ”), guillemets and en/em dashes are mapped to those before hashing. Other characters are
/// kept.
fn conll_form(word: &str, buf: &mut String) {
    buf.clear();
    for c in word.chars() {
        match c {
            '"' | '\u{2018}' | '\u{2019}' | '\u{201A}' | '\u{201B}' | '\u{201C}' | '\u{201D}'
            | '\u{201E}' | '\u{201F}' | '\u{00AB}' | '\u{00BB}' | '\u{2039}' | '\u{203A}'
            | '\u{2032}' => buf.push('\''),
            '\u{2014}' | '\u{2015}' => buf.push_str("--"),
            '\u{2010}' | '\u{2011}' | '\u{2012}' | '\u{2013}' | '\u{2212}' => buf.push('-'),
            '\u{2026}' => buf.push_str("..."),
            _ => buf.push(c),
        }
    }
}

/// Lower-cases `word` into `buf` (cleared first) without allocating once `buf` has grown.
fn lower_into(word: &str, buf: &mut String) {
    buf.clear();
    if word.is_ascii() {
        buf.push_str(word);
        buf.make_ascii_lowercase();
    } else {
        for c in word.chars() {
            buf.extend(c.to_lowercase());
        }
    }
}

fn shape_class(c: char) -> char {
    if c.is_uppercase() {
        'X'
    } else if c.is_lowercase() {
        'x'
    } else if c.is_numeric() {
        'd'
    } else if c.is_alphabetic() {
        // Scripts without case (CJK, Arabic): a letter all the same.
        'l'
    } else {
        c
    }
}

fn token_info(word: &str, lower: &mut String) -> TokenInfo {
    let mut info = TokenInfo {
        word: hash_str(word),
        ..TokenInfo::default()
    };
    lower_into(word, lower);
    info.lower = hash_str(lower);

    let mut shape = FNV_OFFSET;
    let mut short = FNV_OFFSET;
    let mut last_class = '\0';
    let mut flags = 0u16;
    let mut has_upper = false;
    let mut all_alnum_punct = true;
    let mut digit_norm = FNV_OFFSET;
    let mut buf = [0u8; 4];
    for (i, c) in word.chars().enumerate() {
        let class = shape_class(c);
        if i < MAX_SHAPE_CHARS {
            for &b in class.encode_utf8(&mut buf).as_bytes() {
                shape = fnv_step(shape, b);
            }
        }
        if class != last_class {
            for &b in class.encode_utf8(&mut buf).as_bytes() {
                short = fnv_step(short, b);
            }
            last_class = class;
        }
        if c.is_uppercase() {
            has_upper = true;
            if i == 0 {
                flags |= flag::INIT_CAP;
            }
        }
        if c.is_lowercase() {
            flags |= flag::HAS_LOWER;
        }
        if c.is_alphabetic() {
            flags |= flag::HAS_ALPHA;
        }
        if c.is_numeric() {
            flags |= flag::HAS_DIGIT;
        }
        if c.is_alphanumeric() {
            all_alnum_punct = false;
        }
        info.chars += 1;
    }
    if has_upper && flags & flag::HAS_LOWER == 0 {
        flags |= flag::ALL_CAPS;
    }
    if all_alnum_punct && !word.is_empty() {
        flags |= flag::PUNCT;
    }
    info.shape = mix(shape);
    info.short_shape = mix(short);
    if flags & flag::HAS_DIGIT != 0 {
        for c in lower.chars() {
            let c = if c.is_ascii_digit() { '0' } else { c };
            for &b in c.encode_utf8(&mut buf).as_bytes() {
                digit_norm = fnv_step(digit_norm, b);
            }
        }
        info.digit_norm = mix(digit_norm);
    } else {
        info.digit_norm = info.lower;
    }

    // Affixes of the lower-cased form, on char boundaries.
    let mut prefix_end = [0usize; 4];
    let mut count = 0;
    for (i, (idx, c)) in lower.char_indices().enumerate() {
        if i >= 4 {
            break;
        }
        prefix_end[i] = idx + c.len_utf8();
        count = i + 1;
    }
    for (slot, &end) in info.prefix.iter_mut().zip(&prefix_end).take(count) {
        *slot = hash_bytes(&lower.as_bytes()[..end]);
    }
    for (k, (idx, _)) in lower.char_indices().rev().take(4).enumerate() {
        info.suffix[k] = hash_bytes(&lower.as_bytes()[idx..]);
    }
    info.flags = flags;
    if let Some((first, last)) = word
        .split_once('-')
        .map(|(a, _)| (a, word.rsplit('-').next().unwrap_or("")))
    {
        if !first.is_empty() && !last.is_empty() {
            info.hyphen_first_exact = hash_str(first);
            info.hyphen_last_exact = hash_str(last);
            lower_into(first, lower);
            info.hyphen_first = hash_str(lower);
            lower_into(last, lower);
            info.hyphen_last = hash_str(lower);
        }
    }
    info
}

impl DocumentTokens {
    /// Computes per-token facts, gazetteer matches and document-level case counts.
    pub fn new<S: AsRef<str>>(sentences: &[Vec<S>], gaz: &Gazetteers) -> DocumentTokens {
        let total: usize = sentences.iter().map(Vec::len).sum();
        let mut tokens = Vec::with_capacity(total);
        let mut sentence_starts = Vec::with_capacity(sentences.len() + 1);
        let mut lower = String::new();
        let mut normalised = String::new();
        let mut exact = Vec::new();
        let mut folded = Vec::new();
        let mut gaz_exact = Vec::new();
        let mut gaz_folded = Vec::new();
        for sentence in sentences {
            let start = tokens.len();
            sentence_starts.push(start);
            let mut initial = true;
            let mut any_alpha = false;
            let mut any_lower = false;
            for word in sentence {
                let word = word.as_ref();
                let mut info = if needs_conll_form(word) {
                    conll_form(word, &mut normalised);
                    token_info(&normalised, &mut lower)
                } else {
                    token_info(word, &mut lower)
                };
                if initial && info.flags & flag::PUNCT == 0 {
                    info.flags |= flag::SENTENCE_INITIAL;
                    initial = false;
                }
                any_alpha |= info.flags & flag::HAS_ALPHA != 0;
                any_lower |= info.flags & flag::HAS_LOWER != 0;
                tokens.push(info);
            }
            let sentence_tokens = &mut tokens[start..];
            if any_alpha && !any_lower {
                for t in sentence_tokens.iter_mut() {
                    t.flags |= flag::CAPS_LINE;
                }
            }
            exact.clear();
            folded.clear();
            exact.extend(sentence_tokens.iter().map(|t| t.word));
            folded.extend(sentence_tokens.iter().map(|t| t.lower));
            gaz_exact.clear();
            gaz_exact.resize(exact.len(), 0);
            gaz_folded.clear();
            gaz_folded.resize(exact.len(), 0);
            gaz.mark(&exact, &folded, &mut gaz_exact, &mut gaz_folded);
            for (i, t) in sentence_tokens.iter_mut().enumerate() {
                t.gaz_exact = gaz_exact[i];
                t.gaz_folded = gaz_folded[i];
            }
        }
        sentence_starts.push(tokens.len());

        let mut case_counts: PrehashedMap<(u32, u32)> = PrehashedMap::default();
        case_counts.reserve(tokens.len() / 2);
        for t in &tokens {
            if t.flags & flag::HAS_ALPHA == 0 {
                continue;
            }
            let entry = case_counts.entry(t.lower).or_insert((0, 0));
            if is_lowercase_word(t) {
                entry.0 += 1;
            } else if is_mid_sentence_cap(t) {
                entry.1 += 1;
            }
        }
        let mut occurrences: PrehashedMap<Vec<u32>> = PrehashedMap::default();
        for (i, t) in tokens.iter_mut().enumerate() {
            if t.flags & flag::INIT_CAP != 0 {
                occurrences.entry(t.lower).or_default().push(i as u32);
            }
            if t.hyphen_first != 0 {
                let first = combine(0, t.hyphen_first_exact);
                let last = combine(0, t.hyphen_last_exact);
                t.hyphen_gaz = gaz.exact.get(&first).copied().unwrap_or(0)
                    | gaz.exact.get(&last).copied().unwrap_or(0);
            }
        }
        let topic = match (tokens.first(), tokens.get(1), sentence_starts.get(1)) {
            (Some(first), Some(dash), Some(&end))
                if end > 2 && first.flags & flag::CAPS_LINE != 0 && dash.word == hash_str("-") =>
            {
                first.lower
            }
            _ => 0,
        };
        DocumentTokens {
            tokens,
            sentence_starts,
            case_counts,
            occurrences,
            topic,
        }
    }

    pub fn len(&self) -> usize {
        self.tokens.len()
    }

    pub fn is_empty(&self) -> bool {
        self.tokens.is_empty()
    }

    pub fn sentence_count(&self) -> usize {
        self.sentence_starts.len().saturating_sub(1)
    }

    /// Appends the local feature keys of every token to `keys`, with `offsets[t]..offsets[t+1]`
    /// the range of token `t` (`offsets` gets `len() + 1` entries).
    pub fn local_features(
        &self,
        dictionary: &EntityDictionary,
        keys: &mut Vec<u64>,
        offsets: &mut Vec<usize>,
    ) {
        keys.clear();
        offsets.clear();
        keys.reserve(self.tokens.len() * 48);
        let mut words = Vec::new();
        let mut marks = Vec::new();
        for s in 0..self.sentence_count() {
            let (start, end) = (self.sentence_starts[s], self.sentence_starts[s + 1]);
            let sentence = &self.tokens[start..end];
            words.clear();
            words.extend(sentence.iter().map(|t| t.word));
            marks.clear();
            marks.resize(sentence.len(), 0u16);
            if !dictionary.is_empty() {
                dictionary.mark(&words, &mut marks);
            }
            for (i, &mark) in marks.iter().enumerate() {
                offsets.push(keys.len());
                self.token_features(sentence, start, i, keys);
                for_each_bit(u64::from(mark), |bit| {
                    keys.push(feature_key(Template::Dictionary, bit))
                });
            }
        }
        offsets.push(keys.len());
    }

    fn token_features(
        &self,
        sentence: &[TokenInfo],
        sentence_start: usize,
        i: usize,
        keys: &mut Vec<u64>,
    ) {
        use Template as T;
        let t = &sentence[i];
        let at = |offset: isize| -> Option<&TokenInfo> {
            let j = i as isize + offset;
            if j < 0 {
                None
            } else {
                sentence.get(j as usize)
            }
        };
        // Boundary markers: distinct from any real word's hash.
        let lower_of = |o: isize| at(o).map_or(0xB0B0 ^ o as u64, |t| t.lower);
        let word_of = |o: isize| at(o).map_or(0xB0B0 ^ o as u64, |t| t.word);
        let sshape_of = |o: isize| at(o).map_or(0xB0B0 ^ o as u64, |t| t.short_shape);

        let mut push = |template: Template, value: u64| keys.push(feature_key(template, value));
        push(T::Bias, 0);
        push(T::Word, t.word);
        push(T::Lower, t.lower);
        if t.flags & flag::HAS_DIGIT != 0 {
            push(T::DigitNorm, t.digit_norm);
        }
        push(T::Shape, t.shape);
        push(T::ShortShape, t.short_shape);
        let affixes = (t.chars as usize).min(4);
        const PREFIX: [Template; 4] = [T::Prefix1, T::Prefix2, T::Prefix3, T::Prefix4];
        const SUFFIX: [Template; 4] = [T::Suffix1, T::Suffix2, T::Suffix3, T::Suffix4];
        for k in 0..affixes {
            push(PREFIX[k], t.prefix[k]);
            push(SUFFIX[k], t.suffix[k]);
        }
        push(T::LowerM1, lower_of(-1));
        push(T::LowerP1, lower_of(1));
        push(T::LowerM2, lower_of(-2));
        push(T::LowerP2, lower_of(2));
        push(T::WordM1, word_of(-1));
        push(T::WordP1, word_of(1));
        push(T::ShortShapeM1, sshape_of(-1));
        push(T::ShortShapeP1, sshape_of(1));
        push(T::ShortShapeM2, sshape_of(-2));
        push(T::ShortShapeP2, sshape_of(2));
        push(T::BigramM1, combine(lower_of(-1), t.lower));
        push(T::BigramP1, combine(t.lower, lower_of(1)));
        push(
            T::ShapeTrigram,
            combine(combine(sshape_of(-1), t.short_shape), sshape_of(1)),
        );
        let cap_context = u64::from(
            t.flags
                & (flag::INIT_CAP
                    | flag::ALL_CAPS
                    | flag::SENTENCE_INITIAL
                    | flag::CAPS_LINE
                    | flag::HAS_ALPHA),
        );
        push(T::CapContext, cap_context);
        push(T::CapContextShapeP1, combine(cap_context, sshape_of(1)));
        push(T::CapContextLower, combine(cap_context, t.lower));
        push(T::LowerM1Shape, combine(lower_of(-1), t.short_shape));
        push(T::ShapeLowerP1, combine(t.short_shape, lower_of(1)));

        for_each_bit(t.gaz_exact, |bit| push(T::GazExact, bit));
        // Case-insensitive matches only where exact case did not match: headlines and
        // lower-case variants.
        for_each_bit(t.gaz_folded & !t.gaz_exact, |bit| push(T::GazFolded, bit));
        if let Some(prev) = at(-1) {
            for_each_category(prev.gaz_exact, |c| push(T::GazM1, c));
        }
        if let Some(next) = at(1) {
            for_each_category(next.gaz_exact, |c| push(T::GazP1, c));
        }

        if t.flags & flag::HAS_ALPHA != 0 {
            let (lower_count, cap_count) =
                self.case_counts.get(&t.lower).copied().unwrap_or((0, 0));
            // Discount this token's own contribution.
            let (lower_count, cap_count) = if is_lowercase_word(t) {
                (lower_count.saturating_sub(1), cap_count)
            } else if is_mid_sentence_cap(t) {
                (lower_count, cap_count.saturating_sub(1))
            } else {
                (lower_count, cap_count)
            };
            let value = u64::from(lower_count > 0)
                | u64::from(cap_count > 0) << 1
                | u64::from(t.flags & flag::INIT_CAP != 0) << 2
                | u64::from(t.flags & (flag::SENTENCE_INITIAL | flag::CAPS_LINE) != 0) << 3;
            push(T::DocCase, value);
        }

        if t.hyphen_first != 0 {
            push(T::HyphenFirst, t.hyphen_first);
            push(T::HyphenLast, t.hyphen_last);
            for category in 0..GAZ_CATEGORIES {
                if t.hyphen_gaz & (1 << category) != 0 {
                    push(T::HyphenFirstGaz, category as u64);
                }
            }
        }

        if self.topic != 0 {
            for_each_category(t.gaz_exact | t.gaz_folded, |c| {
                push(T::TopicGaz, combine(self.topic, c))
            });
            push(T::TopicShape, combine(self.topic, t.short_shape));
        }

        // Context aggregation (Ratinov & Roth): the words around the same capitalised word
        // elsewhere in the document ("Pirelli 's", "Pirelli is linking") — a name's other
        // contexts often say what it is when this one does not.
        if t.flags & flag::INIT_CAP != 0 {
            if let Some(others) = self.occurrences.get(&t.lower) {
                let here = sentence_start + i;
                for &j in others.iter().take(MAX_AGGREGATED_OCCURRENCES) {
                    let j = j as usize;
                    if j == here {
                        continue;
                    }
                    let (prev, next) = self.neighbours(j);
                    push(T::ContextPrevElsewhere, prev);
                    push(T::ContextNextElsewhere, next);
                }
            }
        }

        let position = i.min(3) as u64;
        let length = match sentence.len() {
            0..=2 => sentence.len() as u64,
            3..=5 => 3,
            _ => 4,
        };
        push(
            T::PositionLength,
            combine(position | length << 4, t.short_shape),
        );
    }

    /// Appends the non-local (second-pass) feature keys of every token, given the first pass's
    /// BILOU tag indices (see `model`), with the same offset convention as `local_features`.
    pub fn nonlocal_features(
        &self,
        first_pass: &[u8],
        confidence: &[f32],
        keys: &mut Vec<u64>,
        offsets: &mut Vec<usize>,
    ) {
        use Template as T;
        keys.clear();
        offsets.clear();
        let n = self.tokens.len();
        if first_pass.len() != n || confidence.len() != n {
            offsets.resize(n + 1, 0);
            return;
        }
        // Label counts (O, PER, ORG, LOC, MISC) per lower-cased form, over capitalised tokens
        // tagged with reasonable confidence: a lower-case "the" says nothing about "The".
        let mut counts: PrehashedMap<[u16; 5]> = PrehashedMap::default();
        // The same votes by BILOU tag: "Pirelli" as the first word of an ORG elsewhere
        // ("Pirelli Cables") differs from "Blackburn" as the last word of a PER.
        let mut tag_counts: PrehashedMap<[u16; N_TAGS]> = PrehashedMap::default();
        for (t, (&tag, &conf)) in self.tokens.iter().zip(first_pass.iter().zip(confidence)) {
            if t.flags & flag::INIT_CAP != 0 && conf >= NL_MIN_CONFIDENCE {
                let slot = counts.entry(t.lower).or_insert([0; 5]);
                let label = tag_label(tag);
                slot[label] = slot[label].saturating_add(1);
                let slot = tag_counts.entry(t.lower).or_insert([0; N_TAGS]);
                if let Some(c) = slot.get_mut(tag as usize) {
                    *c = c.saturating_add(1);
                }
            }
        }
        let mut history: PrehashedMap<[u16; 5]> = PrehashedMap::default();
        for s in 0..self.sentence_count() {
            let (start, end) = (self.sentence_starts[s], self.sentence_starts[s + 1]);
            for idx in start..end {
                offsets.push(keys.len());
                let t = &self.tokens[idx];
                let mut push =
                    |template: Template, value: u64| keys.push(feature_key(template, value));
                let tag = first_pass[idx];
                push(T::NlSelf, u64::from(tag));
                // XEXP push(T::NlSelfWord, combine(u64::from(tag), t.lower));
                let prev = if idx > start {
                    u64::from(first_pass[idx - 1])
                } else {
                    99
                };
                let next = if idx + 1 < end {
                    u64::from(first_pass[idx + 1])
                } else {
                    99
                };
                push(T::NlSelfM1, combine(prev, u64::from(tag)));
                push(T::NlSelfP1, combine(u64::from(tag), next));
                if t.flags & flag::INIT_CAP == 0 {
                    continue;
                }
                let mut others = counts.get(&t.lower).copied().unwrap_or([0; 5]);
                if confidence[idx] >= NL_MIN_CONFIDENCE {
                    let own = tag_label(tag);
                    others[own] = others[own].saturating_sub(1);
                }
                let mut other_tags = tag_counts.get(&t.lower).copied().unwrap_or([0; N_TAGS]);
                if confidence[idx] >= NL_MIN_CONFIDENCE {
                    if let Some(c) = other_tags.get_mut(tag as usize) {
                        *c = c.saturating_sub(1);
                    }
                }
                if let Some(majority) = majority(&other_tags) {
                    push(T::NlMajorityTag, majority as u64);
                }
                if let Some(majority) = majority(&others) {
                    push(T::NlMajority, majority as u64);
                    let cap_context =
                        u64::from(t.flags & (flag::SENTENCE_INITIAL | flag::CAPS_LINE));
                    push(T::NlMajorityCap, combine(majority as u64, cap_context));
                    for (label, &count) in others.iter().enumerate().skip(1) {
                        if count > 0 {
                            push(T::NlAny, label as u64);
                        }
                    }
                }
                let seen = history.entry(t.lower).or_insert([0; 5]);
                if let Some(earlier) = majority(seen) {
                    push(T::NlHistory, earlier as u64);
                }
                if confidence[idx] >= NL_MIN_CONFIDENCE {
                    let label = tag_label(tag);
                    seen[label] = seen[label].saturating_add(1);
                }
            }
        }
        offsets.push(keys.len());
    }
}

/// How many other occurrences of a word context aggregation looks at.
const MAX_AGGREGATED_OCCURRENCES: usize = 8;

impl DocumentTokens {
    /// Lower-cased words before and after token `j` within its sentence (boundary markers at
    /// the edges).
    fn neighbours(&self, j: usize) -> (u64, u64) {
        let s = self
            .sentence_starts
            .partition_point(|&start| start <= j)
            .saturating_sub(1);
        let start = self.sentence_starts.get(s).copied().unwrap_or(0);
        let end = self
            .sentence_starts
            .get(s + 1)
            .copied()
            .unwrap_or(self.tokens.len());
        let prev = if j > start {
            self.tokens[j - 1].lower
        } else {
            0xB0B0 ^ (-1i64) as u64
        };
        let next = if j + 1 < end {
            self.tokens[j + 1].lower
        } else {
            0xB0B0 ^ 1
        };
        (prev, next)
    }
}

/// First-pass tags below this confidence do not vote in the document-level counts (0.3 beat
/// 0.0, 0.15, 0.4, 0.5 and 0.7 on the development file).
pub const NL_MIN_CONFIDENCE: f32 = 0.3;

/// The entity label (0 = O, 1..=4 = PER, ORG, LOC, MISC) of a BILOU tag index: tag 0 is O,
/// then four tags per label (see `model::tag_index`).
#[inline]
fn tag_label(tag: u8) -> usize {
    if tag == 0 {
        0
    } else {
        (((tag - 1) / 4) as usize + 1).min(4)
    }
}

/// The most frequent label, entity labels winning ties against O; `None` when there are no
/// votes.
fn majority(counts: &[u16]) -> Option<usize> {
    let mut best = None;
    let mut best_count = 0;
    for (label, &count) in counts.iter().enumerate() {
        if count > best_count || (count == best_count && count > 0 && label > 0 && best == Some(0))
        {
            best = Some(label);
            best_count = count;
        }
    }
    best
}

fn is_lowercase_word(t: &TokenInfo) -> bool {
    t.flags & flag::HAS_LOWER != 0 && t.flags & flag::INIT_CAP == 0
}

fn is_mid_sentence_cap(t: &TokenInfo) -> bool {
    t.flags & flag::INIT_CAP != 0
        && t.flags & flag::HAS_LOWER != 0
        && t.flags & (flag::SENTENCE_INITIAL | flag::CAPS_LINE) == 0
}

fn for_each_bit(mut bits: u64, mut f: impl FnMut(u64)) {
    while bits != 0 {
        let bit = bits.trailing_zeros();
        f(u64::from(bit));
        bits &= bits - 1;
    }
}

/// Calls `f` with each gazetteer category present in a position bit set.
fn for_each_category(bits: u64, mut f: impl FnMut(u64)) {
    for category in 0..GAZ_CATEGORIES {
        if bits >> (category * 4) & 0xF != 0 {
            f(category as u64);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn doc(sentences: &[&[&str]]) -> DocumentTokens {
        let owned: Vec<Vec<&str>> = sentences.iter().map(|s| s.to_vec()).collect();
        DocumentTokens::new(&owned, Gazetteers::embedded())
    }

    #[test]
    fn shapes_distinguish_case_and_digits() {
        let mut buf = String::new();
        let a = token_info("London", &mut buf);
        let b = token_info("Berlin", &mut buf);
        let c = token_info("LONDON", &mut buf);
        let d = token_info("1996-08-22", &mut buf);
        let e = token_info("2001-01-01", &mut buf);
        assert_eq!(a.shape, b.shape);
        assert_eq!(a.short_shape, b.short_shape);
        assert_ne!(a.shape, c.shape);
        assert_eq!(a.lower, c.lower);
        assert_eq!(d.shape, e.shape);
        assert_eq!(d.digit_norm, e.digit_norm);
        assert!(a.flags & flag::INIT_CAP != 0 && a.flags & flag::ALL_CAPS == 0);
        assert!(c.flags & flag::ALL_CAPS != 0);
    }

    #[test]
    fn affixes_respect_char_boundaries() {
        let mut buf = String::new();
        let info = token_info("Zürich", &mut buf);
        assert_eq!(info.prefix[1], hash_str("zü"));
        assert_eq!(info.suffix[2], hash_str("ich"));
        let short = token_info("é", &mut buf);
        assert_eq!(short.chars, 1);
        assert_eq!(short.prefix[0], short.suffix[0]);
    }

    #[test]
    fn headline_and_sentence_initial_flags() {
        let d = doc(&[
            &["SOCCER", "-", "JAPAN", "WIN"],
            &["\"", "The", "team", "won"],
        ]);
        assert!(d.tokens[0].flags & flag::CAPS_LINE != 0);
        assert!(d.tokens[5].flags & flag::SENTENCE_INITIAL != 0);
        assert!(d.tokens[4].flags & flag::SENTENCE_INITIAL == 0);
        assert!(d.tokens[6].flags & flag::CAPS_LINE == 0);
    }

    #[test]
    fn gazetteer_phrases_mark_positions() {
        let d = doc(&[&["He", "flew", "to", "New", "York", "from", "Germany", "."]]);
        let new = d.tokens[3].gaz_exact;
        let york = d.tokens[4].gaz_exact;
        let city = GazCategory::City as usize;
        assert!(new & (1 << (city * 4)) != 0, "New is B of a city");
        assert!(york & (1 << (city * 4 + 2)) != 0, "York is L of a city");
        let country = GazCategory::Country as usize;
        assert!(d.tokens[6].gaz_exact & (1 << (country * 4 + 3)) != 0);
        // Headlines match case-insensitively.
        let h = doc(&[&["GERMANY", "BEAT", "ITALY"]]);
        assert_eq!(h.tokens[0].gaz_exact, 0);
        assert!(h.tokens[0].gaz_folded & (1 << (country * 4 + 3)) != 0);
    }

    #[test]
    fn long_gazetteer_phrases_match_through_prefixes() {
        let d = doc(&[&[
            "in", "the", "United", "Arab", "Emirates", "and", "United", "Kingdom",
        ]]);
        let country = GazCategory::Country as usize;
        assert!(d.tokens[2].gaz_exact & (1 << (country * 4)) != 0, "B");
        assert!(d.tokens[3].gaz_exact & (1 << (country * 4 + 1)) != 0, "I");
        assert!(d.tokens[4].gaz_exact & (1 << (country * 4 + 2)) != 0, "L");
        assert!(d.tokens[7].gaz_exact & (1 << (country * 4 + 2)) != 0);
        // A prefix alone ("United" before "and") is not a match.
        assert_eq!(d.tokens[5].gaz_exact, 0);
    }

    #[test]
    fn dictionary_marks_longest_names() {
        let mut dict = EntityDictionary::new();
        dict.add(&["New", "York", "Yankees"], 1);
        dict.add(&["Yankees"], 1);
        let d = doc(&[&["the", "New", "York", "Yankees", "and", "New", "York"]]);
        let words: Vec<u64> = d.tokens.iter().map(|t| t.word).collect();
        let mut marks = vec![0u16; words.len()];
        dict.mark(&words, &mut marks);
        let org = 1;
        assert_eq!(marks[1], 1 << (org * 4));
        assert_eq!(marks[2], 1 << (org * 4 + 1));
        // L of the long name, and U as a name of its own (every start keeps its longest match).
        assert_eq!(marks[3], 1 << (org * 4 + 2) | 1 << (org * 4 + 3));
        assert_eq!(marks[5], 0, "a prefix of a name is not a name");
        let round = EntityDictionary::from_entries(dict.entries(), dict.max_tokens());
        assert_eq!(round, dict);
    }

    #[test]
    fn wire_desk_slug_is_the_topic() {
        let sports = doc(&[&["SOCCER", "-", "MILAN", "WIN"], &["Milan", "won", "."]]);
        assert_eq!(sports.topic, hash_str("soccer"));
        let news = doc(&[&["Milan", "is", "a", "city"]]);
        assert_eq!(news.topic, 0);
    }

    #[test]
    fn features_are_deterministic_and_context_sensitive() {
        let d1 = doc(&[&["Peter", "Blackburn", "said"]]);
        let d2 = doc(&[&["Peter", "Blackburn", "said"]]);
        let d3 = doc(&[&["Peter", "Blackburn", "wrote"]]);
        let (mut k1, mut o1, mut k2, mut o2, mut k3, mut o3) =
            (vec![], vec![], vec![], vec![], vec![], vec![]);
        d1.local_features(&EntityDictionary::new(), &mut k1, &mut o1);
        d2.local_features(&EntityDictionary::new(), &mut k2, &mut o2);
        d3.local_features(&EntityDictionary::new(), &mut k3, &mut o3);
        assert_eq!(k1, k2);
        assert_eq!(o1.len(), 4);
        assert!(k1.iter().all(|&k| k != 0));
        // "Blackburn"'s features see the next word.
        assert_ne!(k1[o1[1]..o1[2]], k3[o3[1]..o3[2]]);
        // "Peter"'s window reaches two words right.
        assert_ne!(k1[o1[0]..o1[1]], k3[o3[0]..o3[1]]);
    }

    #[test]
    fn document_case_evidence_discounts_self() {
        let d = doc(&[&["The", "dog"], &["the", "cat"]]);
        let (mut k, mut o) = (vec![], vec![]);
        d.local_features(&EntityDictionary::new(), &mut k, &mut o);
        // "The" (initial, cap) sees one lower-case "the" elsewhere.
        let expected = feature_key(Template::DocCase, 1 | 1 << 2 | 1 << 3);
        assert!(k[o[0]..o[1]].contains(&expected));
    }

    #[test]
    fn nonlocal_features_use_other_occurrences() {
        let d = doc(&[&["Peter", "Blackburn", "said"], &["Blackburn", "left"]]);
        // PER tags: B-PER = 1, L-PER = 3 (see model::tag_index); O = 0.
        let tags = [1u8, 3, 0, 0, 0];
        let conf = [1.0f32; 5];
        let (mut k, mut o) = (vec![], vec![]);
        d.nonlocal_features(&tags, &conf, &mut k, &mut o);
        assert_eq!(o.len(), 6);
        let majority_per = feature_key(Template::NlMajority, 1);
        assert!(k[o[3]..o[4]].contains(&majority_per));
        // Mismatched lengths give no features rather than a panic.
        d.nonlocal_features(&tags[..2], &conf, &mut k, &mut o);
        assert!(k.is_empty());
        assert_eq!(o.len(), 6);
    }

    #[test]
    fn typographic_quotes_and_dashes_take_the_training_form() {
        let curly = doc(&[&["\u{201C}", "Ukraine\u{2019}s", "\u{2014}", "\u{2013}", "\""]]);
        let plain = doc(&[&["'", "Ukraine's", "--", "-", "'"]]);
        for (a, b) in curly.tokens.iter().zip(&plain.tokens) {
            assert_eq!(a.word, b.word);
            assert_eq!(a.shape, b.shape);
        }
    }

    #[test]
    fn odd_input_does_not_panic() {
        let long = "x".repeat(100_000);
        let d = doc(&[
            &[],
            &["", "\u{0}", "🦀", "\u{301}", long.as_str(), "İ"],
            &[],
        ]);
        let (mut k, mut o) = (vec![], vec![]);
        d.local_features(&EntityDictionary::new(), &mut k, &mut o);
        assert_eq!(o.len(), d.len() + 1);
        let empty = doc(&[]);
        empty.local_features(&EntityDictionary::new(), &mut k, &mut o);
        assert_eq!(o, vec![0]);
    }
}
