//! Temporal and numeric expressions, normalised TIMEX3-style.
//!
//! News dates are mostly partial ("March 11", "on Tuesday", "last month") and are read against
//! the publication date: a bare date takes the publication year (or the year before, when it
//! would otherwise lie more than half a year after publication: reports look back), a bare
//! weekday is the most recent such day up to publication, "next"/"last" move a week, month or
//! year. Without a publication date the unknown parts stay `X` ("XXXX-03-11", "XXXX-WXX-2").
//! Durations come as "30-day", "one-month", "six years" (P30D, P1M, P6Y); "six years ago" is a
//! date, not a duration.

use super::text::{lookup_form, TextAnalysis, TokenKind};
use super::{Date, Span, Temporal, TemporalKind};

const MONTHS: &[(&str, u32)] = &[
    ("january", 1),
    ("jan.", 1),
    ("february", 2),
    ("feb.", 2),
    ("march", 3),
    ("mar.", 3),
    ("april", 4),
    ("apr.", 4),
    ("may", 5),
    ("june", 6),
    ("jun.", 6),
    ("july", 7),
    ("jul.", 7),
    ("august", 8),
    ("aug.", 8),
    ("september", 9),
    ("sept.", 9),
    ("sep.", 9),
    ("october", 10),
    ("oct.", 10),
    ("november", 11),
    ("nov.", 11),
    ("december", 12),
    ("dec.", 12),
];

/// ISO weekday numbers (Monday = 1), as TIMEX3 writes them (XXXX-WXX-2 = a Tuesday).
const WEEKDAYS: &[(&str, u32)] = &[
    ("monday", 1),
    ("tuesday", 2),
    ("wednesday", 3),
    ("thursday", 4),
    ("friday", 5),
    ("saturday", 6),
    ("sunday", 7),
];

const NUMBER_WORDS: &[(&str, u32)] = &[
    ("one", 1),
    ("two", 2),
    ("three", 3),
    ("four", 4),
    ("five", 5),
    ("six", 6),
    ("seven", 7),
    ("eight", 8),
    ("nine", 9),
    ("ten", 10),
    ("eleven", 11),
    ("twelve", 12),
    ("fifteen", 15),
    ("twenty", 20),
    ("thirty", 30),
    ("forty", 40),
    ("fifty", 50),
    ("sixty", 60),
    ("ninety", 90),
    ("hundred", 100),
];

/// Duration units and their TIMEX3 letters; hours and minutes go after "T".
const UNITS: &[(&str, &str, bool)] = &[
    ("day", "D", false),
    ("week", "W", false),
    ("month", "M", false),
    ("year", "Y", false),
    ("decade", "0Y", false),
    ("hour", "H", true),
    ("minute", "M", true),
];

const CURRENCY_SYMBOLS: &[(&str, &str)] = &[("$", "USD"), ("€", "EUR"), ("£", "GBP"), ("¥", "JPY")];

const CURRENCY_WORDS: &[(&str, &str)] = &[
    ("dollar", "USD"),
    ("dollars", "USD"),
    ("euro", "EUR"),
    ("euros", "EUR"),
    ("pound", "GBP"),
    ("pounds", "GBP"),
    ("rouble", "RUB"),
    ("roubles", "RUB"),
    ("ruble", "RUB"),
    ("rubles", "RUB"),
    ("hryvnia", "UAH"),
    ("hryvnias", "UAH"),
    ("yuan", "CNY"),
    ("usd", "USD"),
    ("eur", "EUR"),
];

const MULTIPLIERS: &[(&str, f64)] = &[
    ("thousand", 1e3),
    ("million", 1e6),
    ("m", 1e6),
    ("mln", 1e6),
    ("billion", 1e9),
    ("bn", 1e9),
    ("trillion", 1e12),
];

fn lookup<T: Copy>(table: &[(&str, T)], key: &str) -> Option<T> {
    table.iter().find(|(k, _)| *k == key).map(|(_, v)| *v)
}

/// Finds the temporal and numeric expressions of the article.
pub fn extract(text: &TextAnalysis<'_>, published: Option<Date>) -> Vec<Temporal> {
    let mut reader = Reader {
        text,
        published,
        out: Vec::new(),
    };
    let mut i = 0;
    while i < text.tokens.len() {
        i = reader.read_at(i).unwrap_or(i + 1).max(i + 1);
    }
    reader.out
}

struct Reader<'t, 'a> {
    text: &'t TextAnalysis<'a>,
    published: Option<Date>,
    out: Vec<Temporal>,
}

impl<'t, 'a> Reader<'t, 'a> {
    fn word(&self, i: usize) -> &'a str {
        self.text.token_text(i)
    }

    fn lower(&self, i: usize) -> String {
        lookup_form(self.word(i)).to_lowercase()
    }

    fn same_sentence(&self, a: usize, b: usize) -> bool {
        match (self.text.tokens.get(a), self.text.tokens.get(b)) {
            (Some(x), Some(y)) => x.sentence == y.sentence,
            _ => false,
        }
    }

    fn push(
        &mut self,
        first: usize,
        end: usize,
        kind: TemporalKind,
        value: String,
    ) -> Option<usize> {
        let span: Span = self.text.token_range_span(first, end.checked_sub(1)?)?;
        self.out.push(Temporal {
            text: self.text.span_text(span).to_string(),
            span,
            kind,
            value,
        });
        Some(end)
    }

    fn number_at(&self, i: usize) -> Option<u32> {
        let word = self.lower(i);
        if let Some(n) = lookup(NUMBER_WORDS, &word) {
            return Some(n);
        }
        if self.text.tokens.get(i)?.kind == TokenKind::Number {
            return word.replace(',', "").parse().ok();
        }
        None
    }

    /// Reads an expression starting at token `i`; returns the token after it.
    fn read_at(&mut self, i: usize) -> Option<usize> {
        let word = self.lower(i);
        let original = self.word(i);
        // Month-led dates: "March 11", "March 11, 2025", "March 2025".
        if let Some(month) = lookup(MONTHS, &word) {
            if !original.chars().next().is_some_and(char::is_uppercase) {
                return None;
            }
            if let Some(day) = self.day_at(i + 1) {
                if self.lower(i + 2) == "," {
                    if let Some(year) = self.year_at(i + 3) {
                        return self.push(
                            i,
                            i + 4,
                            TemporalKind::Date,
                            format!("{year:04}-{month:02}-{day:02}"),
                        );
                    }
                }
                if let Some(year) = self.year_at(i + 2) {
                    return self.push(
                        i,
                        i + 3,
                        TemporalKind::Date,
                        format!("{year:04}-{month:02}-{day:02}"),
                    );
                }
                let value = self.partial_date(month, day);
                return self.push(i, i + 2, TemporalKind::Date, value);
            }
            if let Some(year) = self.year_at(i + 1) {
                return self.push(
                    i,
                    i + 2,
                    TemporalKind::Date,
                    format!("{year:04}-{month:02}"),
                );
            }
            // "May" alone is a verb more often than a month.
            if month == 5 {
                return None;
            }
            let previous = i.checked_sub(1).map(|p| self.lower(p)).unwrap_or_default();
            if matches!(
                previous.as_str(),
                "in" | "since"
                    | "until"
                    | "by"
                    | "early"
                    | "late"
                    | "mid"
                    | "last"
                    | "next"
                    | "this"
                    | "of"
            ) {
                let value = match self.published {
                    Some(p) => format!("{:04}-{month:02}", p.year),
                    None => format!("XXXX-{month:02}"),
                };
                return self.push(i, i + 1, TemporalKind::Date, value);
            }
            return None;
        }
        // Day-led dates: "11 March", "11 March 2025".
        if let Some(day) = self.day_at(i) {
            if let Some(month) = lookup(MONTHS, &self.lower(i + 1)) {
                if self
                    .word(i + 1)
                    .chars()
                    .next()
                    .is_some_and(char::is_uppercase)
                {
                    if let Some(year) = self.year_at(i + 2) {
                        return self.push(
                            i,
                            i + 3,
                            TemporalKind::Date,
                            format!("{year:04}-{month:02}-{day:02}"),
                        );
                    }
                    let value = self.partial_date(month, day);
                    return self.push(i, i + 2, TemporalKind::Date, value);
                }
            }
        }
        // Weekdays, with "last"/"next"/"this".
        if let Some(weekday) = lookup(WEEKDAYS, &word) {
            let previous = i.checked_sub(1).map(|p| self.lower(p)).unwrap_or_default();
            let (first, shift) = match previous.as_str() {
                "last" => (i - 1, -1),
                "next" => (i - 1, 1),
                "this" => (i - 1, 0),
                _ => (i, 0),
            };
            let value = self.weekday_value(weekday, shift);
            return self.push(first, i + 1, TemporalKind::Date, value);
        }
        match word.as_str() {
            "today" | "yesterday" | "tomorrow" => {
                let offset = match word.as_str() {
                    "yesterday" => -1,
                    "tomorrow" => 1,
                    _ => 0,
                };
                let value = match self.published {
                    Some(p) => format_date(add_days(p, offset)),
                    None if offset == 0 => "PRESENT_REF".to_string(),
                    None => "XXXX-XX-XX".to_string(),
                };
                return self.push(i, i + 1, TemporalKind::Date, value);
            }
            "last" | "next" | "this" | "past" => {
                let unit = self.lower(i + 1);
                let shift = match word.as_str() {
                    "last" | "past" => -1,
                    "next" => 1,
                    _ => 0,
                };
                if let Some(value) = self.relative_unit(&unit, shift) {
                    return self.push(i, i + 2, TemporalKind::Date, value);
                }
                return None;
            }
            "every" => {
                let unit = self.lower(i + 1);
                if let Some((_, letter, clock)) = UNITS.iter().find(|(u, _, _)| *u == unit) {
                    let value = if *clock {
                        format!("PT1{letter}")
                    } else {
                        format!("P1{letter}")
                    };
                    return self.push(i, i + 2, TemporalKind::Set, value);
                }
                return None;
            }
            "daily" | "weekly" | "monthly" | "annually" | "yearly" => {
                let letter = match word.as_str() {
                    "daily" => "D",
                    "weekly" => "W",
                    "monthly" => "M",
                    _ => "Y",
                };
                return self.push(i, i + 1, TemporalKind::Set, format!("P1{letter}"));
            }
            _ => {}
        }
        // Money: "$4 million", "€50bn".
        if let Some(currency) = lookup(CURRENCY_SYMBOLS, original) {
            if let Some((amount, end)) = self.amount_at(i + 1) {
                return self.push(
                    i,
                    end,
                    TemporalKind::Money,
                    format!("{currency} {}", format_amount(amount)),
                );
            }
            return None;
        }
        // Hyphenated durations: "30-day", "one-month", "six-year".
        if let Some((number, unit)) = word.split_once('-') {
            let n = lookup(NUMBER_WORDS, number).or_else(|| number.parse().ok());
            if let (Some(n), Some((_, letter, clock))) =
                (n, UNITS.iter().find(|(u, _, _)| *u == unit))
            {
                return self.push(
                    i,
                    i + 1,
                    TemporalKind::Duration,
                    duration(n, letter, *clock),
                );
            }
        }
        // Percentages and amounts of money written with a currency word.
        if self
            .text
            .tokens
            .get(i)
            .is_some_and(|t| t.kind == TokenKind::Number)
        {
            let next = self.lower(i + 1);
            let number = self.word(i).replace(',', "");
            if next == "%" || next == "percent" {
                return self.push(i, i + 2, TemporalKind::Percent, format!("{number}%"));
            }
            if next == "per" && self.lower(i + 2) == "cent" {
                return self.push(i, i + 3, TemporalKind::Percent, format!("{number}%"));
            }
            if let Some((amount, end)) = self.amount_at(i) {
                if let Some(currency) = lookup(CURRENCY_WORDS, &self.lower(end)) {
                    return self.push(
                        i,
                        end + 1,
                        TemporalKind::Money,
                        format!("{currency} {}", format_amount(amount)),
                    );
                }
            }
        }
        // Numbers followed by a unit.
        if let Some(n) = self.number_at(i) {
            let next = self.lower(i + 1);
            let unit = next.trim_end_matches('s');
            if let Some((_, letter, clock)) = UNITS.iter().find(|(u, _, _)| *u == unit) {
                if self.lower(i + 2) == "ago" && self.same_sentence(i, i + 2) {
                    let value = self.ago_value(n, letter, *clock);
                    return self.push(i, i + 3, TemporalKind::Date, value);
                }
                return self.push(
                    i,
                    i + 2,
                    TemporalKind::Duration,
                    duration(n, letter, *clock),
                );
            }
            // "10 a.m.", "3:30 p.m.", "14:00".
            if next == "a.m." || next == "p.m." {
                if let Some(value) = clock_value(self.word(i), next == "p.m.") {
                    return self.push(i, i + 2, TemporalKind::Time, value);
                }
            }
            if self.word(i).contains(':') {
                if let Some(value) = clock_value(self.word(i), false) {
                    return self.push(i, i + 1, TemporalKind::Time, value);
                }
            }
            // A bare year after a preposition: "in 2024".
            if let Some(year) = self.year_at(i) {
                let previous = i.checked_sub(1).map(|p| self.lower(p)).unwrap_or_default();
                if matches!(
                    previous.as_str(),
                    "in" | "since"
                        | "until"
                        | "by"
                        | "from"
                        | "before"
                        | "after"
                        | "of"
                        | "early"
                        | "late"
                ) {
                    return self.push(i, i + 1, TemporalKind::Date, format!("{year:04}"));
                }
            }
        }
        None
    }

    fn day_at(&self, i: usize) -> Option<u32> {
        let token = self.text.tokens.get(i)?;
        if token.kind != TokenKind::Number {
            return None;
        }
        let word = self.word(i);
        let digits = word
            .trim_end_matches("st")
            .trim_end_matches("nd")
            .trim_end_matches("rd")
            .trim_end_matches("th");
        let day: u32 = digits.parse().ok()?;
        (1..=31).contains(&day).then_some(day)
    }

    fn year_at(&self, i: usize) -> Option<i32> {
        let token = self.text.tokens.get(i)?;
        if token.kind != TokenKind::Number {
            return None;
        }
        let year: i32 = self.word(i).parse().ok()?;
        (1800..=2200).contains(&year).then_some(year)
    }

    fn amount_at(&self, i: usize) -> Option<(f64, usize)> {
        let token = self.text.tokens.get(i)?;
        if token.kind != TokenKind::Number {
            return None;
        }
        let word = self.lower(i).replace(',', "");
        // "50bn", "4m" glue the multiplier to the number.
        let split = word.find(|c: char| c.is_alphabetic()).unwrap_or(word.len());
        let (digits, suffix) = word.split_at(split);
        let mut amount: f64 = digits.parse().ok()?;
        if let Some(multiplier) = lookup(MULTIPLIERS, suffix) {
            return Some((amount * multiplier, i + 1));
        }
        if let Some(multiplier) = lookup(MULTIPLIERS, &self.lower(i + 1)) {
            amount *= multiplier;
            return Some((amount, i + 2));
        }
        Some((amount, i + 1))
    }

    fn partial_date(&self, month: u32, day: u32) -> String {
        match self.published {
            Some(p) => {
                // Reports look back: a date far after publication is last year's.
                let mut year = p.year;
                let candidate = days_from_civil(year, month, day);
                if candidate - days_from_civil(p.year, p.month, p.day) > 183 {
                    year -= 1;
                }
                format!("{year:04}-{month:02}-{day:02}")
            }
            None => format!("XXXX-{month:02}-{day:02}"),
        }
    }

    fn weekday_value(&self, weekday: u32, shift: i64) -> String {
        let Some(p) = self.published else {
            return format!("XXXX-WXX-{weekday}");
        };
        let today = days_from_civil(p.year, p.month, p.day);
        let current = weekday_of(today);
        let back = (i64::from(current) - i64::from(weekday)).rem_euclid(7);
        let day = match shift {
            // "next Tuesday": the Tuesday after publication.
            1 => {
                today
                    + (i64::from(weekday) - i64::from(current))
                        .rem_euclid(7)
                        .max(1)
            }
            // "last Tuesday": strictly before publication.
            -1 => today - if back == 0 { 7 } else { back },
            // A bare weekday: the most recent one up to publication.
            _ => today - back,
        };
        format_date(civil_from_days(day))
    }

    fn relative_unit(&self, unit: &str, shift: i64) -> Option<String> {
        let p = self.published;
        Some(match unit {
            "week" => match p {
                Some(p) => {
                    let day = civil_from_days(days_from_civil(p.year, p.month, p.day) + 7 * shift);
                    let (year, week) = iso_week(day);
                    format!("{year:04}-W{week:02}")
                }
                None => "XXXX-WXX".to_string(),
            },
            "month" => match p {
                Some(p) => {
                    let months = i64::from(p.year) * 12 + i64::from(p.month) - 1 + shift;
                    format!(
                        "{:04}-{:02}",
                        months.div_euclid(12),
                        months.rem_euclid(12) + 1
                    )
                }
                None => "XXXX-XX".to_string(),
            },
            "year" => match p {
                Some(p) => format!("{:04}", i64::from(p.year) + shift),
                None => "XXXX".to_string(),
            },
            _ => return None,
        })
    }

    fn ago_value(&self, n: u32, letter: &str, clock: bool) -> String {
        let Some(p) = self.published else {
            return "XXXX-XX-XX".to_string();
        };
        let today = days_from_civil(p.year, p.month, p.day);
        let n = i64::from(n);
        match (letter, clock) {
            ("D", false) => format_date(civil_from_days(today - n)),
            ("W", false) => format_date(civil_from_days(today - 7 * n)),
            ("M", false) => {
                let months = i64::from(p.year) * 12 + i64::from(p.month) - 1 - n;
                format!(
                    "{:04}-{:02}",
                    months.div_euclid(12),
                    months.rem_euclid(12) + 1
                )
            }
            ("Y", false) => format!("{:04}", i64::from(p.year) - n),
            _ => format_date(p),
        }
    }
}

fn duration(n: u32, letter: &str, clock: bool) -> String {
    if letter == "0Y" {
        return format!("P{}Y", u64::from(n) * 10);
    }
    if clock {
        format!("PT{n}{letter}")
    } else {
        format!("P{n}{letter}")
    }
}

fn clock_value(word: &str, pm: bool) -> Option<String> {
    let (hour, minute) = match word.split_once(':') {
        Some((h, m)) => (h.parse::<u32>().ok()?, m.parse::<u32>().ok()?),
        None => (word.parse::<u32>().ok()?, 0),
    };
    if hour > 24 || minute > 59 {
        return None;
    }
    let hour = if pm && hour < 12 { hour + 12 } else { hour };
    Some(format!("T{hour:02}:{minute:02}"))
}

fn format_amount(amount: f64) -> String {
    if amount.fract() == 0.0 && amount.abs() < 1e18 {
        format!("{}", amount as i64)
    } else {
        format!("{amount}")
    }
}

fn format_date(date: Date) -> String {
    format!("{:04}-{:02}-{:02}", date.year, date.month, date.day)
}

fn add_days(date: Date, days: i64) -> Date {
    civil_from_days(days_from_civil(date.year, date.month, date.day) + days)
}

/// Days since 1970-01-01 (proleptic Gregorian), after Howard Hinnant's algorithm.
fn days_from_civil(year: i32, month: u32, day: u32) -> i64 {
    let y = i64::from(year) - i64::from(month <= 2);
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let m = i64::from(month.clamp(1, 12));
    let doy = (153 * (m + if m > 2 { -3 } else { 9 }) + 2) / 5 + i64::from(day.clamp(1, 31)) - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

fn civil_from_days(days: i64) -> Date {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let month = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let year = (yoe + era * 400 + i64::from(month <= 2)) as i32;
    Date { year, month, day }
}

/// ISO weekday, Monday = 1.
fn weekday_of(days: i64) -> u32 {
    // 1970-01-01 was a Thursday.
    ((days + 3).rem_euclid(7) + 1) as u32
}

fn iso_week(date: Date) -> (i32, u32) {
    let days = days_from_civil(date.year, date.month, date.day);
    let thursday = days - i64::from(weekday_of(days)) + 4;
    let year = civil_from_days(thursday).year;
    let week = (thursday - days_from_civil(year, 1, 1)) / 7 + 1;
    (year, week as u32)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn values(body: &str, published: Option<Date>) -> Vec<(String, String)> {
        let text = TextAnalysis::new("", body);
        extract(&text, published)
            .into_iter()
            .map(|t| (t.text, t.value))
            .collect()
    }

    fn pair(a: &str, b: &str) -> (String, String) {
        (a.to_string(), b.to_string())
    }

    #[test]
    fn dates_without_publication_keep_unknown_years() {
        assert_eq!(
            values("On March 11, talks began; contact on March 12.", None),
            [
                pair("March 11", "XXXX-03-11"),
                pair("March 12", "XXXX-03-12")
            ]
        );
    }

    #[test]
    fn dates_take_the_publication_year() {
        let published = Some(Date {
            year: 2025,
            month: 3,
            day: 14,
        });
        assert_eq!(
            values("On March 11 they met.", published),
            [pair("March 11", "2025-03-11")]
        );
        assert_eq!(
            values(
                "It began on 28 December.",
                Some(Date {
                    year: 2025,
                    month: 1,
                    day: 5
                })
            ),
            [pair("28 December", "2024-12-28")]
        );
    }

    #[test]
    fn weekdays_and_relative_expressions_follow_publication() {
        // 2025-03-14 is a Friday.
        let published = Some(Date {
            year: 2025,
            month: 3,
            day: 14,
        });
        assert_eq!(
            values("They met last Tuesday.", published),
            [pair("last Tuesday", "2025-03-11")]
        );
        assert_eq!(
            values("They meet next month.", published),
            [pair("next month", "2025-04")]
        );
        assert_eq!(
            values("They met on Tuesday.", None),
            [pair("Tuesday", "XXXX-WXX-2")]
        );
    }

    #[test]
    fn durations_money_and_percentages() {
        assert_eq!(
            values(
                "A 30-day truce, a one-month pause, in six years, $4 million and 12.5% more.",
                None
            ),
            [
                pair("30-day", "P30D"),
                pair("one-month", "P1M"),
                pair("six years", "P6Y"),
                pair("$4 million", "USD 4000000"),
                pair("12.5%", "12.5%"),
            ]
        );
    }

    #[test]
    fn calendar_arithmetic_round_trips() {
        for days in [-800_000, -1, 0, 59, 20_000, 2_000_000] {
            let date = civil_from_days(days);
            assert_eq!(days_from_civil(date.year, date.month, date.day), days);
        }
        assert_eq!(weekday_of(days_from_civil(2025, 3, 11)), 2);
    }
}
