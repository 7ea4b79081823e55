//! Text escaped for XML and HTML, where every string that comes from a scenario or a run
//! lands (the JUnit file, report.html).

/// `text` safe in XML or HTML text and attribute values: `&`, `<`, `>` and both quotes as
/// references; control characters other than tab and line feed (not allowed in XML 1.0)
/// left out.
pub fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c if (c as u32) < 0x20 && c != '\t' && c != '\n' => {}
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn markup_and_control_characters_are_neutralised() {
        assert_eq!(
            escape("a<b>&\"c'\nd\u{1}e\tf"),
            "a&lt;b&gt;&amp;&quot;c&#39;\nde\tf"
        );
    }
}
