//! A command line split as a POSIX shell would split it, for the scripts
//! the approval stage can judge: plain words, quoted or not, in commands
//! joined by `&&`, `||`, `;`, `|` and newlines. Whatever makes the shell
//! do more than run the words it reads — a redirection (`>`, `<`, `<(`), a
//! substitution (`$(`, backticks), a variable or arithmetic expansion, a
//! glob, a group or subshell, a background `&`, a comment — or a line it
//! cannot read (an unclosed quote) makes the script unjudgeable: `None`,
//! and the call asks.

/// The commands of `script`, each as its words with the quoting removed;
/// `None` when it holds anything but words and the operators above, or no
/// command at all.
pub(super) fn split_script(script: &str) -> Option<Vec<Vec<String>>> {
    let mut split = Split::default();
    let mut chars = script.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            ' ' | '\t' => split.end_word(),
            '\n' => split.end_command(false)?,
            ';' => split.end_command(true)?,
            '&' if chars.next_if_eq(&'&').is_some() => split.join()?,
            '|' if chars.next_if_eq(&'|').is_some() => split.join()?,
            '|' if chars.peek() != Some(&'&') => split.join()?,
            '\'' => {
                let word = split.word();
                loop {
                    match chars.next()? {
                        '\'' => break,
                        c => word.push(c),
                    }
                }
            }
            '"' => {
                let word = split.word();
                loop {
                    match chars.next()? {
                        '"' => break,
                        '$' | '`' => return None,
                        '\\' => match chars.next()? {
                            '\n' => {}
                            c @ ('"' | '\\' | '$' | '`') => word.push(c),
                            c => {
                                word.push('\\');
                                word.push(c);
                            }
                        },
                        c => word.push(c),
                    }
                }
            }
            '\\' => match chars.next()? {
                '\n' => {}
                c => split.word().push(c),
            },
            '#' if split.word.is_none() => return None,
            '$' | '`' | '>' | '<' | '&' | '|' | '(' | ')' | '{' | '}' | '*' | '?' | '[' => {
                return None;
            }
            c if c.is_control() => return None,
            c => split.word().push(c),
        }
    }
    split.finish()
}

/// The state of [`split_script`]: the commands so far, the one being read
/// and its word being read.
#[derive(Default)]
struct Split {
    commands: Vec<Vec<String>>,
    command: Vec<String>,
    word: Option<String>,
    /// After `&&`, `||` or `|`: a command must follow.
    needs_command: bool,
}

impl Split {
    /// The word being read, started if none is.
    fn word(&mut self) -> &mut String {
        self.word.get_or_insert_with(String::new)
    }

    fn end_word(&mut self) {
        if let Some(word) = self.word.take() {
            self.command.push(word);
            self.needs_command = false;
        }
    }

    /// A `;` (`required`: it must end a command) or a newline (which may
    /// end nothing: a blank line, or a line after `&&`).
    fn end_command(&mut self, required: bool) -> Option<()> {
        self.end_word();
        if self.command.is_empty() {
            return (!required).then_some(());
        }
        self.commands.push(std::mem::take(&mut self.command));
        Some(())
    }

    /// `&&`, `||` or `|`: joins the command before to the one after.
    fn join(&mut self) -> Option<()> {
        self.end_word();
        if self.command.is_empty() {
            return None;
        }
        self.commands.push(std::mem::take(&mut self.command));
        self.needs_command = true;
        Some(())
    }

    fn finish(mut self) -> Option<Vec<Vec<String>>> {
        self.end_word();
        if !self.command.is_empty() {
            self.commands.push(std::mem::take(&mut self.command));
        }
        (!self.needs_command && !self.commands.is_empty()).then_some(self.commands)
    }
}
