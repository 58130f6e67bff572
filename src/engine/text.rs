//! Tokens with byte offsets, sentences and paragraphs.
//!
//! Everything later in the pipeline points back into the article by byte offsets, so the
//! tokenizer never copies or normalises text: a token is a `[start, end)` range of the original
//! title or body, and "normalisation" (curly vs straight apostrophes, case) happens only when a
//! token is looked up in a lexicon ([`lookup_form`]). Title and body are tokenized into one
//! token vector (title first) so that later stages can walk the whole article in reading order.
//!
//! News text has a few habits the rules below rely on:
//! - one paragraph per line, and headlines, deks and sub-headings are lines without a final
//!   period;
//! - abbreviations with periods ("U.S.", "Gen.", "Mr.") rarely end a sentence;
//! - a quotation may hold several sentences, and the attribution after it starts with a
//!   lower-case word (`"...?" he said`), which is how we know the sentence did not end there.

use super::{Field, Span};

/// What a token is, as far as the later stages care.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TokenKind {
    /// Letters (possibly with digits, internal apostrophes, hyphens or abbreviation periods).
    Word,
    /// Starts with a digit: 30-day, 4,275, 1.5, 2025.
    Number,
    /// A quotation mark that opens a quotation.
    OpenQuote,
    /// A quotation mark that closes a quotation.
    CloseQuote,
    /// Sentence-final punctuation: . ! ? and the ellipsis.
    Terminal,
    /// Dashes and hyphens standing between words.
    Dash,
    /// http(s):// and www. addresses.
    Url,
    /// Any other punctuation or symbol (including emoji).
    Punct,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Token {
    pub field: Field,
    pub start: usize,
    pub end: usize,
    pub kind: TokenKind,
    /// Whitespace (or the start of the line) precedes the token.
    pub space_before: bool,
    /// The first word of a sentence or of a quoted sentence, where capitals say nothing about
    /// names.
    pub clause_initial: bool,
    pub sentence: usize,
    pub paragraph: usize,
}

impl Token {
    pub fn span(&self) -> Span {
        Span {
            field: self.field,
            start: self.start,
            end: self.end,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Sentence {
    pub field: Field,
    pub start: usize,
    pub end: usize,
    /// Token range `[first_token, end_token)`.
    pub first_token: usize,
    pub end_token: usize,
    pub paragraph: usize,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Paragraph {
    pub field: Field,
    pub start: usize,
    pub end: usize,
    pub first_token: usize,
    pub end_token: usize,
    pub first_sentence: usize,
    pub end_sentence: usize,
    /// Most words capitalised: a headline or sub-heading ("Trump Says Talks Went Well").
    pub headline_case: bool,
}

/// The tokenized article.
#[derive(Debug, Clone)]
pub struct TextAnalysis<'a> {
    pub title: &'a str,
    pub body: &'a str,
    pub tokens: Vec<Token>,
    pub sentences: Vec<Sentence>,
    pub paragraphs: Vec<Paragraph>,
}

impl<'a> TextAnalysis<'a> {
    pub fn new(title: &'a str, body: &'a str) -> TextAnalysis<'a> {
        let mut analysis = TextAnalysis {
            title,
            body,
            tokens: Vec::new(),
            sentences: Vec::new(),
            paragraphs: Vec::new(),
        };
        analysis.add_field(Field::Title, title);
        analysis.add_field(Field::Body, body);
        analysis
    }

    pub fn field_text(&self, field: Field) -> &'a str {
        match field {
            Field::Title => self.title,
            Field::Body => self.body,
        }
    }

    /// The text of a span, or "" if the span is not valid for this article.
    pub fn span_text(&self, span: Span) -> &'a str {
        self.field_text(span.field)
            .get(span.start..span.end)
            .unwrap_or("")
    }

    pub fn token_text(&self, index: usize) -> &'a str {
        match self.tokens.get(index) {
            Some(token) => self.span_text(token.span()),
            None => "",
        }
    }

    /// The span from the start of token `first` to the end of token `last` (inclusive), if
    /// both exist and lie in the same field.
    pub fn token_range_span(&self, first: usize, last: usize) -> Option<Span> {
        let a = self.tokens.get(first)?;
        let b = self.tokens.get(last)?;
        if a.field != b.field || b.end < a.start {
            return None;
        }
        Some(Span {
            field: a.field,
            start: a.start,
            end: b.end,
        })
    }

    /// Index of the first token whose start is at or after `offset` in `field`.
    pub fn token_at_or_after(&self, field: Field, offset: usize) -> usize {
        self.tokens
            .partition_point(|t| (t.field, t.start) < (field, offset))
    }

    fn add_field(&mut self, field: Field, text: &str) {
        let mut line_start = 0;
        for line in text.split_inclusive('\n') {
            let content = line.trim_end_matches(['\n', '\r']);
            let offset = line_start;
            line_start += line.len();
            if content.trim().is_empty() {
                continue;
            }
            self.add_paragraph(field, content, offset);
        }
    }

    fn add_paragraph(&mut self, field: Field, line: &str, offset: usize) {
        let paragraph = self.paragraphs.len();
        let first_token = self.tokens.len();
        let first_sentence = self.sentences.len();
        tokenize_into(line, offset, field, paragraph, &mut self.tokens);
        let end_token = self.tokens.len();
        self.split_sentences(field, paragraph, first_token, end_token);
        let headline_case = is_headline_case(self, first_token, end_token);
        let start = self.tokens.get(first_token).map_or(offset, |t| t.start);
        let end = self
            .tokens
            .get(end_token.wrapping_sub(1))
            .filter(|_| end_token > first_token)
            .map_or(offset, |t| t.end);
        self.paragraphs.push(Paragraph {
            field,
            start,
            end,
            first_token,
            end_token,
            first_sentence,
            end_sentence: self.sentences.len(),
            headline_case,
        });
    }

    fn split_sentences(&mut self, field: Field, paragraph: usize, first: usize, end: usize) {
        let mut sentence_start = first;
        let mut i = first;
        while i < end {
            if self.ends_sentence_at(i) {
                // Closing quotes and brackets right after the full stop belong to the sentence.
                let mut last = i;
                while last + 1 < end {
                    let Some(next) = self.tokens.get(last + 1) else {
                        break;
                    };
                    let text = self.token_text(last + 1);
                    if !next.space_before
                        && (next.kind == TokenKind::CloseQuote
                            || text == ")"
                            || text == "]"
                            || next.kind == TokenKind::Terminal)
                    {
                        last += 1;
                    } else {
                        break;
                    }
                }
                if last + 1 < end && self.next_starts_sentence(last + 1) {
                    self.push_sentence(field, paragraph, sentence_start, last + 1);
                    sentence_start = last + 1;
                }
                i = last + 1;
            } else {
                i += 1;
            }
        }
        if sentence_start < end {
            self.push_sentence(field, paragraph, sentence_start, end);
        }
        self.mark_clause_initial(first, end);
    }

    fn ends_sentence_at(&self, i: usize) -> bool {
        let Some(token) = self.tokens.get(i) else {
            return false;
        };
        match token.kind {
            TokenKind::Terminal => {
                // An ellipsis inside brackets marks an omission, not a sentence end: "(…)".
                let text = self.token_text(i);
                if text == "…" || text == "..." {
                    let prev = i.checked_sub(1).map(|p| self.token_text(p));
                    return prev != Some("(") && prev != Some("[");
                }
                true
            }
            TokenKind::Word => {
                // "U.S." at the end of a sentence carries the full stop in its token; titles
                // such as "Gen." never end one.
                let text = self.token_text(i);
                text.ends_with('.') && !is_title_abbreviation(text) && !is_initial(text)
            }
            _ => false,
        }
    }

    fn next_starts_sentence(&self, i: usize) -> bool {
        let Some(token) = self.tokens.get(i) else {
            return false;
        };
        if !token.space_before {
            return false;
        }
        let text = self.token_text(i);
        match token.kind {
            TokenKind::OpenQuote | TokenKind::Number | TokenKind::Dash => true,
            TokenKind::Word => {
                let first = text.chars().next().unwrap_or(' ');
                if !first.is_uppercase() {
                    return false;
                }
                // After an abbreviation such as "U.S." a capitalised word may be a name that
                // continues the sentence; only a word that usually opens a sentence ends it.
                match self.tokens.get(i.wrapping_sub(1)) {
                    Some(prev) if prev.kind == TokenKind::Word => SENTENCE_OPENERS.contains(&text),
                    _ => true,
                }
            }
            TokenKind::Punct => text == "(" || text == "[",
            _ => false,
        }
    }

    fn push_sentence(&mut self, field: Field, paragraph: usize, first: usize, end: usize) {
        let index = self.sentences.len();
        for token in self.tokens.get_mut(first..end).into_iter().flatten() {
            token.sentence = index;
        }
        let start = self.tokens.get(first).map_or(0, |t| t.start);
        let stop = self
            .tokens
            .get(end.wrapping_sub(1))
            .map_or(start, |t| t.end);
        self.sentences.push(Sentence {
            field,
            start,
            end: stop,
            first_token: first,
            end_token: end,
            paragraph,
        });
    }

    /// A word is clause-initial when nothing but quotes, brackets and dashes stand between it
    /// and the start of the line or a sentence-final mark or colon: `Trump: "We have ...`,
    /// `... for Russia. Would be devastating ...`.
    fn mark_clause_initial(&mut self, first: usize, end: usize) {
        let mut initial = true;
        for i in first..end {
            let text = self.token_text(i);
            let Some(token) = self.tokens.get_mut(i) else {
                break;
            };
            match token.kind {
                TokenKind::Word | TokenKind::Number | TokenKind::Url => {
                    token.clause_initial = initial;
                    initial = false;
                }
                // An ellipsis marks an omission inside a sentence more often than an end.
                TokenKind::Terminal => initial = text != "…" && text != "...",
                TokenKind::OpenQuote | TokenKind::CloseQuote | TokenKind::Dash => {}
                TokenKind::Punct => {
                    if text == ":" {
                        initial = true;
                    } else if text != "(" && text != "[" && text != "‘" && text != "'" {
                        initial = false;
                    }
                }
            }
        }
        // The first word of every sentence is clause-initial whatever came before.
        let sentences: Vec<(usize, usize)> = self
            .sentences
            .iter()
            .filter(|s| s.first_token >= first && s.end_token <= end)
            .map(|s| (s.first_token, s.end_token))
            .collect();
        for (s_first, s_end) in sentences {
            for i in s_first..s_end {
                let Some(token) = self.tokens.get_mut(i) else {
                    break;
                };
                if matches!(
                    token.kind,
                    TokenKind::Word | TokenKind::Number | TokenKind::Url
                ) {
                    token.clause_initial = true;
                    break;
                }
            }
        }
    }
}

/// Words that usually open a sentence; used after abbreviations like "U.S." to tell a sentence
/// end from a name that continues the sentence ("U.S. President Trump").
const SENTENCE_OPENERS: &[&str] = &[
    "A",
    "After",
    "An",
    "As",
    "At",
    "But",
    "During",
    "He",
    "Her",
    "His",
    "However",
    "I",
    "If",
    "In",
    "It",
    "Its",
    "Meanwhile",
    "On",
    "She",
    "That",
    "The",
    "Their",
    "There",
    "These",
    "They",
    "This",
    "Those",
    "We",
    "When",
    "While",
    "Why",
    "You",
];

/// Abbreviations that keep their period and stand before a name, so they never end a sentence.
const TITLE_ABBREVIATIONS: &[&str] = &[
    "Adm.", "Brig.", "Capt.", "Cmdr.", "Col.", "Cpl.", "Dr.", "Fr.", "Gen.", "Gov.", "Hon.", "Lt.",
    "Maj.", "Mr.", "Mrs.", "Ms.", "Mt.", "No.", "Prof.", "Rep.", "Rev.", "Sen.", "Sgt.", "Sr.",
    "Jr.", "St.", "Supt.", "vs.", "v.",
];

/// Other abbreviations that keep their period inside a token.
const OTHER_ABBREVIATIONS: &[&str] = &[
    "Apr.", "Aug.", "Co.", "Corp.", "Dec.", "Dept.", "Feb.", "Inc.", "Jan.", "Jul.", "Jun.",
    "Ltd.", "Mar.", "Nov.", "Oct.", "Sept.", "Sep.", "a.m.", "approx.", "e.g.", "etc.", "i.e.",
    "p.m.",
];

fn is_title_abbreviation(text: &str) -> bool {
    TITLE_ABBREVIATIONS.contains(&text)
}

/// A single capital with a period: a middle initial ("John F. Kennedy").
fn is_initial(text: &str) -> bool {
    let mut chars = text.chars();
    matches!((chars.next(), chars.next(), chars.next()), (Some(c), Some('.'), None) if c.is_uppercase())
}

/// Headlines and sub-headings capitalise most words and do not end with a full stop; a
/// sentence full of titles and names ("Qatari Prime Minister Sheikh Mohammed ...") does.
fn is_headline_case(text: &TextAnalysis<'_>, first: usize, end: usize) -> bool {
    let ends_with_stop = end
        .checked_sub(1)
        .filter(|&last| last >= first)
        .and_then(|last| text.tokens.get(last))
        .is_some_and(|t| t.kind == TokenKind::Terminal && text.span_text(t.span()) == ".");
    if ends_with_stop {
        return false;
    }
    let mut long_words = 0;
    let mut capitalised = 0;
    for i in first..end {
        if text.tokens.get(i).map(|t| t.kind) != Some(TokenKind::Word) {
            continue;
        }
        let word = text.token_text(i);
        if word.chars().count() < 4 {
            continue;
        }
        long_words += 1;
        if word.chars().next().is_some_and(char::is_uppercase) {
            capitalised += 1;
        }
    }
    long_words >= 3 && capitalised * 10 >= long_words * 8
}

fn is_word_char(c: char) -> bool {
    c.is_alphanumeric() || is_combining_mark(c)
}

/// Combining marks (accents typed as separate code points) belong to the word before them.
fn is_combining_mark(c: char) -> bool {
    matches!(c as u32,
        0x0300..=0x036F | 0x1AB0..=0x1AFF | 0x1DC0..=0x1DFF | 0x20D0..=0x20FF | 0xFE20..=0xFE2F
        | 0x200D | 0xFE0F)
}

fn is_apostrophe(c: char) -> bool {
    c == '\'' || c == '’' || c == 'ʼ'
}

fn is_dash(c: char) -> bool {
    matches!(c, '-' | '–' | '—' | '‒' | '―' | '‐')
}

/// Quotation marks that always open or always close, and the ambiguous straight ones.
fn quote_direction(c: char) -> Option<Option<bool>> {
    match c {
        '“' | '„' | '«' | '‘' | '‚' | '‹' => Some(Some(true)),
        '”' | '»' | '›' => Some(Some(false)),
        '"' | '\'' | '’' => Some(None),
        _ => None,
    }
}

/// Tokenizes one line starting at byte `offset` of its field.
fn tokenize_into(line: &str, offset: usize, field: Field, paragraph: usize, out: &mut Vec<Token>) {
    let chars: Vec<(usize, char)> = line.char_indices().collect();
    let at = |k: usize| chars.get(k).map(|&(_, c)| c);
    let pos = |k: usize| chars.get(k).map_or(line.len(), |&(b, _)| b);
    let mut k = 0;
    let mut space_before = true;
    while let Some(c) = at(k) {
        if c.is_whitespace() {
            space_before = true;
            k += 1;
            continue;
        }
        let start_k = k;
        let kind;
        if starts_url(line, pos(k)) {
            while at(k).is_some_and(|c| !c.is_whitespace()) {
                k += 1;
            }
            // Trailing punctuation belongs to the sentence, not the address.
            while k > start_k + 1 && at(k - 1).is_some_and(|c| ".,;:!?)\"”’'".contains(c)) {
                k -= 1;
            }
            kind = TokenKind::Url;
        } else if is_word_char(c) {
            let numeric = c.is_ascii_digit();
            k += 1;
            while let Some(c) = at(k) {
                if is_word_char(c) {
                    k += 1;
                    continue;
                }
                let next = at(k + 1);
                let next_is_word = next.is_some_and(is_word_char);
                if is_apostrophe(c) && next_is_word {
                    // The possessive "’s" is a token of its own ("Ukraine’s" -> Ukraine, ’s);
                    // other apostrophes stay inside the word ("don’t", "O’Brien").
                    let after = at(k + 2);
                    if matches!(next, Some('s') | Some('S')) && !after.is_some_and(is_word_char) {
                        break;
                    }
                    k += 1;
                    continue;
                }
                if (c == '-' || c == '‐') && next_is_word {
                    // "US-Ukraine" splits into two names; "30-day" and "long-term" stay whole.
                    if next.is_some_and(char::is_uppercase) {
                        break;
                    }
                    k += 1;
                    continue;
                }
                if numeric
                    && (c == ',' || c == '.' || c == ':')
                    && next.is_some_and(|n| n.is_ascii_digit())
                {
                    k += 1;
                    continue;
                }
                if c == '.' {
                    // "U.S.", "a.m.": letters separated by periods.
                    if next_is_word && at(k + 2) == Some('.') && k - start_k == 1 {
                        k += 2;
                        while at(k) == Some('.')
                            && at(k + 1).is_some_and(is_word_char)
                            && at(k + 2) == Some('.')
                        {
                            k += 2;
                        }
                        k += 1;
                        break;
                    }
                    let word = line.get(pos(start_k)..pos(k + 1)).unwrap_or("");
                    // A middle initial stands after a space ("John F. Kennedy"), not after a
                    // hyphen ("IRIS-T.").
                    let initial = space_before && is_initial(word);
                    if TITLE_ABBREVIATIONS.contains(&word)
                        || OTHER_ABBREVIATIONS.contains(&word)
                        || initial
                    {
                        k += 1;
                    }
                }
                break;
            }
            kind = if numeric {
                TokenKind::Number
            } else {
                TokenKind::Word
            };
        } else if is_apostrophe(c)
            && !space_before
            && matches!(at(k + 1), Some('s') | Some('S'))
            && !at(k + 2).is_some_and(is_word_char)
        {
            // The possessive "’s" after a name.
            k += 2;
            kind = TokenKind::Word;
        } else if c == '.' && at(k + 1) == Some('.') && at(k + 2) == Some('.') {
            k += 3;
            kind = TokenKind::Terminal;
        } else if c == '…' || c == '.' || c == '!' || c == '?' {
            k += 1;
            while at(k).is_some_and(|c| c == '!' || c == '?') {
                k += 1;
            }
            kind = TokenKind::Terminal;
        } else if is_dash(c) {
            k += 1;
            while at(k).is_some_and(is_dash) {
                k += 1;
            }
            kind = TokenKind::Dash;
        } else if let Some(direction) = quote_direction(c) {
            k += 1;
            let space_after = at(k).is_none_or(|n| n.is_whitespace());
            let opens = match direction {
                Some(opens) => opens,
                // A straight quote opens when it follows a space and precedes a word.
                None => {
                    let after_bracket = start_k
                        .checked_sub(1)
                        .and_then(at)
                        .is_some_and(|p| "([{—–-:".contains(p));
                    !space_after && (space_before || after_bracket)
                }
            };
            kind = if opens {
                TokenKind::OpenQuote
            } else {
                TokenKind::CloseQuote
            };
        } else {
            k += 1;
            while at(k).is_some_and(is_combining_mark) {
                k += 1;
            }
            kind = TokenKind::Punct;
        }
        out.push(Token {
            field,
            start: offset + pos(start_k),
            end: offset + pos(k),
            kind,
            space_before,
            clause_initial: false,
            sentence: 0,
            paragraph,
        });
        space_before = false;
    }
}

fn starts_url(line: &str, at: usize) -> bool {
    let rest = line.get(at..).unwrap_or("");
    rest.starts_with("http://") || rest.starts_with("https://") || rest.starts_with("www.")
}

/// The form a token is looked up under in lexicons: curly apostrophes straightened.
pub fn lookup_form(text: &str) -> String {
    text.replace(['’', 'ʼ'], "'")
}

/// Splits a lexicon phrase into word forms the same way article text is tokenized, so that
/// "U.S." or "Washington D.C." in a gazetteer matches the tokens of an article.
pub fn phrase_tokens(phrase: &str) -> Vec<String> {
    let mut tokens = Vec::new();
    tokenize_into(phrase, 0, Field::Body, 0, &mut tokens);
    tokens
        .iter()
        .filter_map(|t| phrase.get(t.start..t.end))
        .map(lookup_form)
        .collect()
}

pub fn is_capitalised(word: &str) -> bool {
    word.chars().next().is_some_and(char::is_uppercase)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn words<'a>(text: &TextAnalysis<'a>) -> Vec<&'a str> {
        (0..text.tokens.len()).map(|i| text.token_text(i)).collect()
    }

    #[test]
    fn splits_possessives_and_keeps_contractions() {
        let t = TextAnalysis::new("", "Ukraine’s case, I don’t know.");
        assert_eq!(
            words(&t),
            ["Ukraine", "’s", "case", ",", "I", "don’t", "know", "."]
        );
    }

    #[test]
    fn keeps_abbreviations_numbers_and_hyphenated_words() {
        let t = TextAnalysis::new(
            "",
            "The U.S. Gen. Smith paid $4,275 for a 30-day US-Ukraine deal.",
        );
        assert_eq!(
            words(&t),
            [
                "The", "U.S.", "Gen.", "Smith", "paid", "$", "4,275", "for", "a", "30-day", "US",
                "-", "Ukraine", "deal", "."
            ]
        );
        assert_eq!(t.sentences.len(), 1);
    }

    #[test]
    fn offsets_point_into_the_text() {
        let body = "«Привет» — said Zoë, “yes…” (…) https://x.org/a?b=1.";
        let t = TextAnalysis::new("", body);
        for token in &t.tokens {
            assert!(body.is_char_boundary(token.start) && body.is_char_boundary(token.end));
            assert!(token.start < token.end);
        }
        assert!(words(&t).contains(&"https://x.org/a?b=1"));
        assert!(words(&t).contains(&"Zoë"));
    }

    #[test]
    fn sentences_stay_whole_across_quoted_questions_and_abbreviations() {
        let t = TextAnalysis::new(
            "",
            "\"Why now?\" he asked. Gen. Smith met U.S. officials. The talks ended. \"Good,\" he said.",
        );
        let texts: Vec<&str> = t
            .sentences
            .iter()
            .map(|s| {
                t.span_text(Span {
                    field: s.field,
                    start: s.start,
                    end: s.end,
                })
            })
            .collect();
        assert_eq!(
            texts,
            [
                "\"Why now?\" he asked.",
                "Gen. Smith met U.S. officials.",
                "The talks ended.",
                "\"Good,\" he said."
            ]
        );
    }

    #[test]
    fn quotes_get_directions_and_quoted_sentences_start_clauses() {
        let t = TextAnalysis::new("", "He said: \"Go. Would be bad,\" and left. It’s 'no'.");
        let kinds: Vec<TokenKind> = t.tokens.iter().map(|t| t.kind).collect();
        assert_eq!(kinds[3], TokenKind::OpenQuote);
        let would = words(&t).iter().position(|w| *w == "Would").unwrap_or(0);
        assert!(t.tokens[would].clause_initial);
        let and = words(&t).iter().position(|w| *w == "and").unwrap_or(0);
        assert!(!t.tokens[and].clause_initial);
    }

    #[test]
    fn paragraphs_are_lines_and_ellipsis_in_brackets_does_not_split() {
        let t = TextAnalysis::new("Title Line", "First line (…) goes on.\n\nSecond line.");
        assert_eq!(t.paragraphs.len(), 3);
        assert_eq!(t.sentences.len(), 3);
    }

    #[test]
    fn headline_case_lines_are_detected() {
        let t = TextAnalysis::new(
            "Trump Says Russia Talks Are Going Well",
            "Trump said talks went well.",
        );
        assert!(t.paragraphs[0].headline_case);
        assert!(!t.paragraphs[1].headline_case);
    }

    #[test]
    fn odd_input_never_panics() {
        for s in [
            "",
            "\"",
            "’",
            "...",
            "a.",
            "U.S",
            "🙂🙂 e\u{301} \u{200d}",
            "-\n-\n",
            "“",
            "x'",
        ] {
            let t = TextAnalysis::new(s, s);
            for token in &t.tokens {
                assert!(!t.span_text(token.span()).is_empty());
            }
        }
    }
}
