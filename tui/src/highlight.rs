//! A small syntax highlighter for fenced code blocks: keywords, strings,
//! comments and numbers of a few languages. It is a tokenizer, not a
//! parser: good enough to read code in a transcript, cheap to run.

use ratatui::style::Style;
use ratatui::text::Span;

use crate::text::sanitize;
use crate::theme::Theme;

/// What the tokenizer knows of a language.
struct Lang {
    keywords: &'static [&'static str],
    line_comments: &'static [&'static str],
    block_comment: Option<(&'static str, &'static str)>,
    /// Quote characters that open a string; a backtick string may span
    /// lines, the others end at the line's end.
    quotes: &'static [char],
    /// `"""…"""` strings (Python, TOML).
    triple_quotes: bool,
    /// `'a` is a lifetime unless it closes like a char literal (Rust).
    lifetimes: bool,
    /// A comment starts only after whitespace (`#` in shell: `$#`, `a#b`).
    comment_after_space: bool,
}

const RUST: Lang = Lang {
    keywords: &[
        "as", "async", "await", "break", "const", "continue", "crate", "dyn", "else", "enum",
        "extern", "false", "fn", "for", "if", "impl", "in", "let", "loop", "match", "mod", "move",
        "mut", "pub", "ref", "return", "self", "Self", "static", "struct", "super", "trait",
        "true", "type", "unsafe", "use", "where", "while",
    ],
    line_comments: &["//"],
    block_comment: Some(("/*", "*/")),
    quotes: &['"', '\''],
    triple_quotes: false,
    lifetimes: true,
    comment_after_space: false,
};

const PYTHON: Lang = Lang {
    keywords: &[
        "False", "None", "True", "and", "as", "assert", "async", "await", "break", "class",
        "continue", "def", "del", "elif", "else", "except", "finally", "for", "from", "global",
        "if", "import", "in", "is", "lambda", "nonlocal", "not", "or", "pass", "raise", "return",
        "try", "while", "with", "yield",
    ],
    line_comments: &["#"],
    block_comment: None,
    quotes: &['"', '\''],
    triple_quotes: true,
    lifetimes: false,
    comment_after_space: false,
};

const JS: Lang = Lang {
    keywords: &[
        "async",
        "await",
        "break",
        "case",
        "catch",
        "class",
        "const",
        "continue",
        "default",
        "delete",
        "do",
        "else",
        "enum",
        "export",
        "extends",
        "false",
        "finally",
        "for",
        "function",
        "if",
        "implements",
        "import",
        "in",
        "instanceof",
        "interface",
        "let",
        "new",
        "null",
        "of",
        "return",
        "static",
        "super",
        "switch",
        "this",
        "throw",
        "true",
        "try",
        "type",
        "typeof",
        "undefined",
        "var",
        "void",
        "while",
        "yield",
    ],
    line_comments: &["//"],
    block_comment: Some(("/*", "*/")),
    quotes: &['"', '\'', '`'],
    triple_quotes: false,
    lifetimes: false,
    comment_after_space: false,
};

const SH: Lang = Lang {
    keywords: &[
        "case", "do", "done", "elif", "else", "esac", "export", "fi", "for", "function", "if",
        "in", "local", "return", "then", "until", "while",
    ],
    line_comments: &["#"],
    block_comment: None,
    quotes: &['"', '\''],
    triple_quotes: false,
    lifetimes: false,
    comment_after_space: true,
};

const JSON: Lang = Lang {
    keywords: &["false", "null", "true"],
    line_comments: &[],
    block_comment: None,
    quotes: &['"'],
    triple_quotes: false,
    lifetimes: false,
    comment_after_space: false,
};

const TOML: Lang = Lang {
    keywords: &["false", "true"],
    line_comments: &["#"],
    block_comment: None,
    quotes: &['"', '\''],
    triple_quotes: true,
    lifetimes: false,
    comment_after_space: false,
};

const GO: Lang = Lang {
    keywords: &[
        "break",
        "case",
        "chan",
        "const",
        "continue",
        "default",
        "defer",
        "else",
        "fallthrough",
        "false",
        "for",
        "func",
        "go",
        "goto",
        "if",
        "import",
        "interface",
        "map",
        "nil",
        "package",
        "range",
        "return",
        "select",
        "struct",
        "switch",
        "true",
        "type",
        "var",
    ],
    line_comments: &["//"],
    block_comment: Some(("/*", "*/")),
    quotes: &['"', '\'', '`'],
    triple_quotes: false,
    lifetimes: false,
    comment_after_space: false,
};

const C: Lang = Lang {
    keywords: &[
        "auto", "break", "case", "char", "const", "continue", "default", "do", "double", "else",
        "enum", "extern", "float", "for", "goto", "if", "inline", "int", "long", "register",
        "return", "short", "signed", "sizeof", "static", "struct", "switch", "typedef", "union",
        "unsigned", "void", "volatile", "while", "#include", "#define", "#ifdef", "#ifndef",
        "#endif", "#if", "#else", "NULL",
    ],
    line_comments: &["//"],
    block_comment: Some(("/*", "*/")),
    quotes: &['"', '\''],
    triple_quotes: false,
    lifetimes: false,
    comment_after_space: false,
};

fn lang(name: &str) -> Option<&'static Lang> {
    // A fence's info string may carry more than the language (`rust,ignore`).
    let name = name
        .split([',', ' ', '{'])
        .next()
        .unwrap_or_default()
        .to_ascii_lowercase();
    match name.as_str() {
        "rust" | "rs" => Some(&RUST),
        "python" | "py" | "python3" => Some(&PYTHON),
        "js" | "javascript" | "jsx" | "mjs" | "ts" | "typescript" | "tsx" => Some(&JS),
        "sh" | "bash" | "shell" | "zsh" | "console" => Some(&SH),
        "json" | "jsonc" => Some(&JSON),
        "toml" => Some(&TOML),
        "go" | "golang" => Some(&GO),
        "c" | "h" | "cpp" | "c++" => Some(&C),
        _ => None,
    }
}

/// `code` (sanitized here) as lines of styled spans, highlighted when
/// `language` is one the tokenizer knows, in the code block style
/// otherwise.
pub fn highlight(code: &str, language: &str, theme: &Theme) -> Vec<Vec<Span<'static>>> {
    let code = sanitize(code);
    let code = code.strip_suffix('\n').unwrap_or(&code);
    let tokens = match lang(language) {
        Some(lang) => tokenize(code, lang, theme),
        None => vec![(code.to_owned(), theme.code_block)],
    };
    let mut lines = vec![Vec::new()];
    for (text, style) in tokens {
        let mut parts = text.split('\n');
        if let Some(head) = parts.next()
            && !head.is_empty()
            && let Some(line) = lines.last_mut()
        {
            line.push(Span::styled(head.to_owned(), style));
        }
        for part in parts {
            let mut line = Vec::new();
            if !part.is_empty() {
                line.push(Span::styled(part.to_owned(), style));
            }
            lines.push(line);
        }
    }
    lines
}

fn tokenize(code: &str, lang: &Lang, theme: &Theme) -> Vec<(String, Style)> {
    let chars: Vec<char> = code.chars().collect();
    let mut tokens: Vec<(String, Style)> = Vec::new();
    let mut push = |text: &[char], style: Style| match tokens.last_mut() {
        Some((last, last_style)) if *last_style == style => last.extend(text),
        _ => tokens.push((text.iter().collect(), style)),
    };
    let mut i = 0;
    while i < chars.len() {
        let rest = &chars[i..];
        let after_space = i == 0 || chars[i - 1].is_whitespace();
        let end = if let Some((open, close)) = lang.block_comment
            && starts_with(rest, open)
        {
            push_until(rest, open.len(), close).map(|n| (n, theme.comment))
        } else if lang
            .line_comments
            .iter()
            .any(|prefix| starts_with(rest, prefix))
            && (after_space || !lang.comment_after_space)
        {
            let n = rest.iter().position(|&c| c == '\n').unwrap_or(rest.len());
            Some((n, theme.comment))
        } else if lang.triple_quotes && (starts_with(rest, "\"\"\"") || starts_with(rest, "'''")) {
            let close: String = rest[..3].iter().collect();
            push_until(rest, 3, &close).map(|n| (n, theme.string))
        } else if lang.quotes.contains(&rest[0]) {
            string_len(rest, lang).map(|n| (n, theme.string))
        } else if rest[0].is_ascii_digit() && (i == 0 || !is_ident(chars[i - 1])) {
            let n = rest
                .iter()
                .position(|&c| !(c.is_ascii_alphanumeric() || c == '.' || c == '_'))
                .unwrap_or(rest.len());
            Some((n, theme.number))
        } else if is_ident(rest[0]) || (rest[0] == '#' && !lang.line_comments.contains(&"#")) {
            let n = 1 + rest[1..]
                .iter()
                .position(|&c| !is_ident(c))
                .unwrap_or(rest.len() - 1);
            let word: String = rest[..n].iter().collect();
            let style = if lang.keywords.contains(&word.as_str()) {
                theme.keyword
            } else {
                theme.code_block
            };
            Some((n, style))
        } else {
            None
        };
        let (n, style) = end.unwrap_or((1, theme.code_block));
        push(&rest[..n], style);
        i += n;
    }
    tokens
}

fn is_ident(c: char) -> bool {
    c.is_alphanumeric() || c == '_'
}

fn starts_with(chars: &[char], prefix: &str) -> bool {
    let mut at = chars.iter();
    prefix.chars().all(|p| at.next() == Some(&p))
}

/// The length of the token that opened with `open_len` characters and ends
/// with `close` (included), or all of `chars` when it never closes.
fn push_until(chars: &[char], open_len: usize, close: &str) -> Option<usize> {
    let mut i = open_len;
    while i < chars.len() {
        if starts_with(&chars[i..], close) {
            return Some(i + close.chars().count());
        }
        i += 1;
    }
    Some(chars.len())
}

/// The length of the string literal `chars` starts with, or `None` when
/// the quote opens no string (a Rust lifetime).
fn string_len(chars: &[char], lang: &Lang) -> Option<usize> {
    let quote = chars[0];
    if lang.lifetimes && quote == '\'' {
        let is_char = match chars.get(1) {
            Some('\\') => true,
            Some(_) => chars.get(2) == Some(&'\''),
            None => false,
        };
        if !is_char {
            return None;
        }
    }
    let mut i = 1;
    while i < chars.len() {
        match chars[i] {
            '\\' => i += 2,
            '\n' if quote != '`' => return Some(i),
            c if c == quote => return Some(i + 1),
            _ => i += 1,
        }
    }
    Some(chars.len())
}
