//! The two ways to answer outside the loopback page: on the terminal
//! (`tether-agent connect`), or in advance (`connect --accept`).

use super::{Answer, Ask, Question, answered};
use std::io::BufRead;
use tether_shared::consent::Purpose;
use tokio::sync::oneshot;

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

/// The terminal's prompt line: who asks, for what, through which broker,
/// and how long the person has.
fn prompt_text(question: &Question) -> String {
    let through = question.broker.as_deref().map(|broker| format!(" through {broker}")).unwrap_or_default();
    let wants = match question.purpose {
        Purpose::RemoteSession => "to start a remote session on this computer",
        _ => "access to this computer",
    };
    format!("{} asks {wants}{through}. Accept? [y/N] ({} s to answer)", question.technician, question.timeout.as_secs())
}

fn parse_yes(line: &str) -> Answer {
    match line.trim().to_ascii_lowercase().as_str() {
        "y" | "yes" => Answer::Accept,
        _ => Answer::Reject,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

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
            purpose: Purpose::RemoteSession,
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
        let question = Question {
            session_id: "s".into(),
            technician: "t".into(),
            purpose: Purpose::RemoteSession,
            broker: None,
            timeout: Duration::from_secs(1),
        };
        assert_eq!(PreApproved.ask(&question).await, Ok(Answer::Accept));
    }
}
