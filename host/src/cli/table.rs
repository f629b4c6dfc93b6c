//! Plain-text tables for the CLI: every column as wide as its widest cell,
//! so long routes, UUID names and ARNs never push the next column out of line.

/// A table of text cells, rendered with columns padded to their widest cell.
#[derive(Debug, Default)]
pub struct Table {
    indent: usize,
    header: Vec<String>,
    rows: Vec<Vec<String>>,
    right: Vec<usize>,
}

impl Table {
    /// A table with these column headings.
    pub fn new<I, S>(header: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        Table {
            header: header.into_iter().map(Into::into).collect(),
            ..Table::default()
        }
    }

    /// Indents every line by `n` spaces.
    pub fn indent(mut self, n: usize) -> Self {
        self.indent = n;
        self
    }

    /// Right-aligns column `i` (numbers).
    pub fn right(mut self, i: usize) -> Self {
        self.right.push(i);
        self
    }

    /// Adds a row; missing cells are empty, extra cells are kept.
    pub fn row<I, S>(&mut self, cells: I)
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.rows.push(cells.into_iter().map(Into::into).collect());
    }

    /// The table as text, one line per row after the header, each ending in
    /// a newline. The last column is not padded.
    pub fn render(&self) -> String {
        let columns = std::iter::once(&self.header)
            .chain(&self.rows)
            .map(Vec::len)
            .max()
            .unwrap_or(0);
        let mut widths = vec![0; columns];
        for line in std::iter::once(&self.header).chain(&self.rows) {
            for (i, cell) in line.iter().enumerate() {
                widths[i] = widths[i].max(cell.chars().count());
            }
        }
        let mut out = String::new();
        for line in std::iter::once(&self.header).chain(&self.rows) {
            let mut text = " ".repeat(self.indent);
            for (i, width) in widths.iter().enumerate() {
                let cell = line.get(i).map(String::as_str).unwrap_or("");
                let pad = width - cell.chars().count();
                let last = i + 1 == columns;
                if self.right.contains(&i) {
                    text.push_str(&" ".repeat(pad));
                    text.push_str(cell);
                } else {
                    text.push_str(cell);
                    if !last {
                        text.push_str(&" ".repeat(pad));
                    }
                }
                if !last {
                    text.push_str("  ");
                }
            }
            out.push_str(text.trim_end());
            out.push('\n');
        }
        out
    }
}

/// An amount in US dollars as money: `$0.0000002`, `$1.25`, never in
/// exponent notation; at most 10 decimals, trailing zeros trimmed to 2.
pub fn usd(amount: f64) -> String {
    if !amount.is_finite() {
        return "$?".into();
    }
    let mut text = format!("{:.10}", amount.abs());
    while text.ends_with('0') && text.len() > text.find('.').map_or(0, |d| d + 3) {
        text.pop();
    }
    let sign = if amount < 0.0 && !text.trim_matches(['0', '.']).is_empty() {
        "-"
    } else {
        ""
    };
    format!("{sign}${text}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn columns_fit_the_widest_cell() {
        let mut t = Table::new(["NAME", "STATUS", "ARN"]).indent(2);
        t.row(["a", "RUNNING", "arn:1"]);
        t.row(["0f8fad5b-d9cb-469f-a165-70867728950e", "SUCCEEDED", "arn:2"]);
        let text = t.render();
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines.len(), 3);
        let col = |line: &str, word: &str| line.find(word).expect("word in line");
        assert_eq!(col(lines[0], "STATUS"), col(lines[1], "RUNNING"));
        assert_eq!(col(lines[1], "RUNNING"), col(lines[2], "SUCCEEDED"));
        assert_eq!(col(lines[0], "ARN"), col(lines[2], "arn:2"));
        assert!(lines.iter().all(|l| l.starts_with("  ")));
        assert!(lines.iter().all(|l| !l.ends_with(' ')));
    }

    #[test]
    fn right_aligned_numbers() {
        let mut t = Table::new(["ID", "EVENT"]).right(0);
        t.row(["7", "StepStarted"]);
        t.row(["12", "StepSucceeded"]);
        assert_eq!(
            t.render(),
            "ID  EVENT\n 7  StepStarted\n12  StepSucceeded\n"
        );
    }

    #[test]
    fn money_never_uses_exponents() {
        assert_eq!(usd(2.0000000000000002e-7), "$0.0000002");
        assert_eq!(usd(1.25), "$1.25");
        assert_eq!(usd(0.0), "$0.00");
        assert_eq!(usd(3.0), "$3.00");
        assert_eq!(usd(0.0000415), "$0.0000415");
        assert_eq!(usd(-0.5), "-$0.50");
        assert_eq!(usd(f64::NAN), "$?");
    }
}
