//! Commands as argument lists.
//!
//! A list is kept as written. A string is split the way a shell would
//! (`rails s -b '0.0.0.0'` → `["rails", "s", "-b", "0.0.0.0"]`), unless it uses
//! shell syntax (`&&`, `|`, `;`, `$VAR`, redirections, subshells): then it runs
//! as `["sh", "-c", line]` so the shell still means what it says.

use crate::schema::Command;

/// The argument list of a command.
#[must_use]
pub fn arguments(command: &Command) -> Vec<String> {
    match command {
        Command::Args(args) => args.clone(),
        Command::Line(line) => match shlex::split(line) {
            Some(args) if !uses_shell(line) && !args.first().is_some_and(|a| is_assignment(a)) => {
                args
            }
            _ => vec!["sh".to_owned(), "-c".to_owned(), line.clone()],
        },
    }
}

/// Whether a word is a shell variable assignment (`RAILS_ENV=production`):
/// at the start of a command line only a shell reads it so; split into
/// arguments, the task would try to run a program named `RAILS_ENV=production`.
fn is_assignment(word: &str) -> bool {
    word.split_once('=').is_some_and(|(name, _)| {
        name.starts_with(|c: char| c.is_ascii_alphabetic() || c == '_')
            && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
    })
}

/// Whether a command line needs a shell: an operator, a variable or a
/// redirection outside single quotes, or more than one line.
#[must_use]
pub fn uses_shell(line: &str) -> bool {
    let mut single = false;
    let mut escaped = false;
    for c in line.chars() {
        if escaped {
            escaped = false;
            continue;
        }
        match c {
            '\\' if !single => escaped = true,
            '\'' => single = !single,
            '|' | '&' | ';' | '<' | '>' | '$' | '`' | '(' | ')' | '\n' if !single => return true,
            _ => {}
        }
    }
    false
}

#[cfg(test)]
mod tests {
    use super::*;

    fn line(s: &str) -> Vec<String> {
        arguments(&Command::Line(s.to_owned()))
    }

    #[test]
    fn split_like_a_shell() {
        let table: &[(&str, &[&str])] = &[
            (
                "bundle exec rails s -p 3000 -b '0.0.0.0'",
                &[
                    "bundle", "exec", "rails", "s", "-p", "3000", "-b", "0.0.0.0",
                ],
            ),
            ("npm run start", &["npm", "run", "start"]),
            ("rake db:migrate", &["rake", "db:migrate"]),
            ("echo \"a b\" c\\ d", &["echo", "a b", "c d"]),
            ("echo 'a | b'", &["echo", "a | b"]),
            (
                "rake db:migrate && rake assets",
                &["sh", "-c", "rake db:migrate && rake assets"],
            ),
            (
                "bundle exec sidekiq | tee log",
                &["sh", "-c", "bundle exec sidekiq | tee log"],
            ),
            ("a; b", &["sh", "-c", "a; b"]),
            ("echo $HOME", &["sh", "-c", "echo $HOME"]),
            ("echo \"$HOME\"", &["sh", "-c", "echo \"$HOME\""]),
            ("run > out.log", &["sh", "-c", "run > out.log"]),
            ("run 2>&1", &["sh", "-c", "run 2>&1"]),
            ("echo \\$HOME", &["echo", "$HOME"]),
            (
                "RAILS_ENV=production bundle exec rails s",
                &["sh", "-c", "RAILS_ENV=production bundle exec rails s"],
            ),
            ("rails s --port=3000", &["rails", "s", "--port=3000"]),
            ("=x y", &["=x", "y"]),
        ];
        for (input, expected) in table {
            assert_eq!(line(input), *expected, "{input}");
        }
    }

    #[test]
    fn lists_are_kept() {
        let args = vec!["sh".to_owned(), "-c".to_owned(), "a && b".to_owned()];
        assert_eq!(arguments(&Command::Args(args.clone())), args);
    }
}
