//! Skipping a value while checking its syntax.

use super::Reader;
use super::run::plain_run;

impl Reader<'_> {
    /// Skips one value of any kind, checking that it is well-formed JSON the way
    /// serde_json does when it ignores a value: strings may hold any escape
    /// (`\uXXXX` with any four hex digits), numbers follow the JSON grammar but
    /// may be of any size. `None` for malformed input and for arrays and objects
    /// nested deeper than [`MAX_DEPTH`](Self::MAX_DEPTH).
    pub fn skip(&mut self) -> Option<()> {
        // One bit per open container, innermost lowest: 1 for an object.
        let mut objects: u64 = 0;
        let mut depth = 0;
        loop {
            // A value.
            match self.peek()? {
                b'"' => self.skip_string()?,
                b'-' | b'0'..=b'9' => self.skip_number()?,
                b't' => self.literal(b"true").then_some(())?,
                b'f' => self.literal(b"false").then_some(())?,
                b'n' => self.literal(b"null").then_some(())?,
                open @ (b'{' | b'[') => {
                    self.set_at(self.at() + 1);
                    let close = if open == b'{' { b'}' } else { b']' };
                    if self.peek()? == close {
                        self.set_at(self.at() + 1);
                    } else {
                        if depth == Self::MAX_DEPTH {
                            return None;
                        }
                        depth += 1;
                        objects = objects << 1 | u64::from(open == b'{');
                        if open == b'{' {
                            self.skip_key()?;
                        }
                        continue;
                    }
                }
                _ => return None,
            }
            // What follows it: a comma and the next element, or closing brackets.
            loop {
                if depth == 0 {
                    return Some(());
                }
                let in_object = objects & 1 == 1;
                match self.peek()? {
                    b',' => {
                        self.set_at(self.at() + 1);
                        if in_object {
                            self.skip_key()?;
                        }
                        break;
                    }
                    b'}' if in_object => {}
                    b']' if !in_object => {}
                    _ => return None,
                }
                self.set_at(self.at() + 1);
                depth -= 1;
                objects >>= 1;
            }
        }
    }

    /// A key and its colon.
    fn skip_key(&mut self) -> Option<()> {
        if self.peek()? != b'"' {
            return None;
        }
        self.skip_string()?;
        self.eat(b':')
    }

    /// A string at the cursor, with any valid escapes.
    fn skip_string(&mut self) -> Option<()> {
        let bytes = self.bytes();
        let mut at = self.at() + 1;
        loop {
            at += plain_run(bytes.get(at..)?).0;
            match bytes.get(at)? {
                b'"' => {
                    self.set_at(at + 1);
                    return Some(());
                }
                b'\\' => match bytes.get(at + 1)? {
                    b'"' | b'\\' | b'/' | b'b' | b'f' | b'n' | b'r' | b't' => at += 2,
                    b'u' => {
                        let hex = bytes.get(at + 2..at + 6)?;
                        if !hex.iter().all(u8::is_ascii_hexdigit) {
                            return None;
                        }
                        at += 6;
                    }
                    _ => return None,
                },
                _ => return None,
            }
        }
    }

    /// A number at the cursor: `-`? (`0` | `[1-9][0-9]*`) (`.` `[0-9]+`)?
    /// (`[eE]` `[+-]`? `[0-9]+`)?.
    fn skip_number(&mut self) -> Option<()> {
        let bytes = self.bytes();
        let mut at = self.at();
        let digits = |at: &mut usize| {
            let start = *at;
            while let Some(b'0'..=b'9') = bytes.get(*at) {
                *at += 1;
            }
            *at - start
        };
        if bytes.get(at) == Some(&b'-') {
            at += 1;
        }
        match bytes.get(at)? {
            b'0' => at += 1,
            b'1'..=b'9' => {
                digits(&mut at);
            }
            _ => return None,
        }
        if bytes.get(at) == Some(&b'.') {
            at += 1;
            if digits(&mut at) == 0 {
                return None;
            }
        }
        if let Some(b'e' | b'E') = bytes.get(at) {
            at += 1;
            if let Some(b'+' | b'-') = bytes.get(at) {
                at += 1;
            }
            if digits(&mut at) == 0 {
                return None;
            }
        }
        self.set_at(at);
        Some(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde::de::IgnoredAny;

    /// Skipping accepts a value only when serde_json does, and consumes all of it.
    fn agrees(text: &str) -> bool {
        let mut reader = Reader::new(text);
        let skipped = reader.skip().and_then(|()| reader.end()).is_some();
        if skipped {
            assert!(
                serde_json::from_str::<IgnoredAny>(text).is_ok(),
                "{text:?} skipped but serde_json refuses it"
            );
        }
        skipped
    }

    #[test]
    fn skips_what_serde_json_accepts() {
        for good in [
            "0",
            "-0",
            "-12.5e+3",
            "1E-2",
            "123456789012345678901234567890",
            "\"\"",
            "\"a\\\"\\\\\\/\\b\\f\\n\\r\\t\\u00e9\\uD800\"",
            "\"é\"",
            "true",
            "false",
            "null",
            "[]",
            "{}",
            " [ 1 , [ ] , { } , { \"a\" : [ { \"b\" : null } ] } ] ",
            "{\"a\":{\"b\":{\"c\":[[[\"d\"]]]}}}",
        ] {
            assert!(agrees(good), "{good:?} not skipped");
        }
        for bad in [
            "",
            "-",
            "01",
            "1.",
            ".5",
            "1e",
            "1e+",
            "+1",
            "\"a",
            "\"\\x\"",
            "\"\\u12\"",
            "\"\\u12G4\"",
            "\"\t\"",
            "tru",
            "nul",
            "[1,]",
            "[,]",
            "{\"a\"}",
            "{\"a\":}",
            "{\"a\":1,}",
            "{1:2}",
            "[1}",
            "{\"a\":1]",
            "[",
            "{",
            "]",
            "}",
        ] {
            assert!(!agrees(bad), "{bad:?} skipped");
        }
        let deep = |n: usize| format!("{}{}", "[".repeat(n), "]".repeat(n));
        assert!(agrees(&deep(Reader::MAX_DEPTH as usize + 1)));
        assert!(!agrees(&deep(Reader::MAX_DEPTH as usize + 2)));
    }
}
