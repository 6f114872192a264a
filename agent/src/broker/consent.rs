//! Asking the person at this computer to accept a broker session (the
//! policy's "user acceptance for incoming connections"). The agent starts
//! nothing before a yes: the server's word alone never opens the screen.
//! Who asks depends on how the code was entered — the loopback page, the
//! terminal, or nobody when the person pre-approved with `connect --accept`.

use std::fmt;
use std::io::BufRead;
use std::time::Duration;
use tokio::sync::oneshot;

/// The question put to the user.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Question {
    pub session_id: String,
    /// The technician's display name.
    pub technician: String,
    /// `host:port` of the broker the session goes through, if any.
    pub broker: Option<String>,
    /// How long the user has; no answer by then refuses the session.
    pub timeout: Duration,
}

/// The user's answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Answer {
    Accept,
    Reject,
}

/// Puts a [`Question`] to the person at this computer. The answer arrives
/// on the receiver; a sender dropped unanswered means nobody answered.
pub trait Ask: Send + Sync + fmt::Debug {
    fn ask(&self, question: &Question) -> oneshot::Receiver<Answer>;
}

/// The person consented before the code was sent (`connect --accept`).
#[derive(Debug, Clone, Copy, Default)]
pub struct PreApproved;

impl Ask for PreApproved {
    fn ask(&self, question: &Question) -> oneshot::Receiver<Answer> {
        tracing::info!(session = %question.session_id, "accepted in advance (--accept)");
        answered(Answer::Accept)
    }
}

/// Asks on the terminal: `y`/`yes` accepts; anything else, or a closed
/// standard input, rejects.
#[derive(Debug, Clone, Copy, Default)]
pub struct Terminal;

impl Ask for Terminal {
    fn ask(&self, question: &Question) -> oneshot::Receiver<Answer> {
        println!("{}", prompt_text(question));
        let (reply, answer) = oneshot::channel();
        // Reading stdin blocks; an unanswered read is left behind when the
        // timeout passes (the process exits after the session anyway).
        std::thread::spawn(move || {
            let mut line = String::new();
            let read = std::io::stdin().lock().read_line(&mut line);
            let answer = match read {
                Ok(0) | Err(_) => {
                    println!("No answer can be read here; rejecting. (Use --accept to accept in advance.)");
                    Answer::Reject
                }
                Ok(_) => parse_yes(&line),
            };
            // The session may have ended meanwhile; nobody waits then.
            let _ = reply.send(answer);
        });
        answer
    }
}

/// The terminal's prompt line.
fn prompt_text(question: &Question) -> String {
    let through = question.broker.as_deref().map(|broker| format!(" through {broker}")).unwrap_or_default();
    format!(
        "{} asks to start a remote session on this computer{through}. Accept? [y/N] ({} s to answer)",
        question.technician,
        question.timeout.as_secs()
    )
}

fn parse_yes(line: &str) -> Answer {
    match line.trim().to_ascii_lowercase().as_str() {
        "y" | "yes" => Answer::Accept,
        _ => Answer::Reject,
    }
}

/// A receiver that already holds `answer`.
pub fn answered(answer: Answer) -> oneshot::Receiver<Answer> {
    let (reply, receiver) = oneshot::channel();
    // The receiver is alive: it is returned below.
    let _ = reply.send(answer);
    receiver
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_a_clear_yes_accepts() {
        for yes in ["y", "Y\n", " yes ", "YES"] {
            assert_eq!(parse_yes(yes), Answer::Accept, "{yes:?}");
        }
        for no in ["", "n", "no", "yep", "y es", "ja"] {
            assert_eq!(parse_yes(no), Answer::Reject, "{no:?}");
        }
    }

    #[test]
    fn the_prompt_names_the_technician_broker_and_time() {
        let question = Question {
            session_id: "s1".into(),
            technician: "Tess Tech".into(),
            broker: Some("relay.example:3478".into()),
            timeout: Duration::from_secs(120),
        };
        let text = prompt_text(&question);
        assert!(
            text.starts_with("Tess Tech asks to start a remote session on this computer through relay.example:3478")
        );
        assert!(text.ends_with("(120 s to answer)"), "{text}");
    }

    #[tokio::test]
    async fn pre_approval_accepts_at_once() {
        let question =
            Question { session_id: "s".into(), technician: "t".into(), broker: None, timeout: Duration::from_secs(1) };
        assert_eq!(PreApproved.ask(&question).await, Ok(Answer::Accept));
    }
}
