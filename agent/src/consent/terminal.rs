//! The two ways to answer outside the loopback page: on the terminal
//! (`tether-agent connect`), or in advance (`connect --accept`).

use super::{Answer, Ask, Question, answered};
use std::fmt::Write as _;
use std::io::BufRead;
use tether_shared::mode::SessionMode;
use tokio::sync::oneshot;

/// The person consented before the code was sent (`connect --accept`), to
/// what the server's grant asks — to the session, not to more later: a
/// request to widen the running session's mode is answered no.
#[derive(Debug, Clone, Copy, Default)]
pub struct PreApproved;

impl Ask for PreApproved {
    fn ask(&self, question: &Question) -> oneshot::Receiver<Answer> {
        if let Some(tool) = &question.tool {
            println!("{} Refused (--accept accepts the session only).", tool.sentence(&question.technician));
            return answered(Answer::Reject);
        }
        if question.change_from.is_some() {
            println!(
                "{} asked to change the session to {} mode; refused (--accept accepts the session only).",
                question.technician,
                question.offer.mode.name()
            );
            return answered(Answer::Reject);
        }
        tracing::info!(
            session = %question.session_id,
            mode = question.offer.mode.name(),
            "accepted in advance (--accept)"
        );
        answered(Answer::accept_as_offered(question))
    }
}

/// Asks on the terminal: `y`/`yes` (or `1`) accepts what is asked, the
/// number or name of a narrower mode accepts in that one; anything else,
/// or a closed standard input, rejects.
#[derive(Debug, Clone, Copy, Default)]
pub struct Terminal;

impl Ask for Terminal {
    fn ask(&self, question: &Question) -> oneshot::Receiver<Answer> {
        println!("{}", prompt_text(question));
        let (reply, answer) = oneshot::channel();
        let question = question.clone();
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
                Ok(_) => parse_answer(&line, &question),
            };
            if answer == Answer::Reject {
                println!("Rejected: the technician gets no access to this computer.");
            }
            // The session may have ended meanwhile; nobody waits then.
            let _ = reply.send(answer);
        });
        answer
    }
}

/// The modes the person can answer with, numbered from 1: the one asked
/// for, then the narrower choices in precedence.
fn numbered(question: &Question) -> Vec<SessionMode> {
    std::iter::once(question.offer.mode).chain(question.offer.choices.iter()).collect()
}

/// The terminal's prompt: who asks, for which mode and what it lets them
/// do, the narrower modes the person may pick instead, and how long they
/// have.
fn prompt_text(question: &Question) -> String {
    let offer = &question.offer;
    // The name comes from the server: nothing in it may steer the terminal.
    let technician: String = question.technician.chars().filter(|c| !c.is_control()).collect();
    if let Some(tool) = &question.tool {
        let seconds = question.timeout.as_secs();
        return format!(
            "{}\nAllow it? y: allow; n: do not allow (nor does no answer within {seconds} s)\nAllow? [y/N] ",
            tool.sentence(&technician)
        );
    }
    let asks = match question.change_from {
        Some(current) => {
            format!("{technician} asks to change the session from {} to {} mode.", current.name(), offer.mode.name())
        }
        None => format!("{technician} asks for a remote session on this computer in {} mode.", offer.mode.name()),
    };
    let mut text = format!(
        "{asks}\n  {}\n  They could: {}.\n",
        offer.mode.description(),
        offer.access.iter().map(|access| access.describe()).collect::<Vec<_>>().join(", "),
    );
    let _ = writeln!(text, "Your answer:");
    for (number, mode) in numbered(question).into_iter().enumerate() {
        let what = if number == 0 { "accept".to_owned() } else { format!("accept only {} mode:", mode.name()) };
        let detail = if number == 0 { String::new() } else { format!(" {}", mode.description()) };
        let keys = if number == 0 { "y or 1".to_owned() } else { (number + 1).to_string() };
        let _ = writeln!(text, "  {keys:<7} {what}{detail}");
    }
    let _ =
        write!(text, "  n       reject (so does no answer within {} s)\nAccept? [y/N] ", question.timeout.as_secs());
    text
}

/// Reads the person's line: a clear yes or `1` accepts as asked; the number
/// or the name of one of the choices accepts in that mode; anything else
/// rejects.
fn parse_answer(line: &str, question: &Question) -> Answer {
    let typed = line.trim().to_ascii_lowercase();
    let modes = numbered(question);
    if matches!(typed.as_str(), "y" | "yes") {
        return Answer::accept_as_offered(question);
    }
    let by_number = typed.parse::<usize>().ok().and_then(|number| modes.get(number.checked_sub(1)?).copied());
    let by_name = modes.iter().copied().find(|mode| mode.name().to_ascii_lowercase() == typed);
    by_number.or(by_name).map_or(Answer::Reject, Answer::Accept)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;
    use tether_shared::consent::Offer;
    use tether_shared::mode::ModeSet;

    fn question() -> Question {
        Question {
            session_id: "s1".into(),
            technician: "Tess Tech".into(),
            offer: Offer {
                mode: SessionMode::Active,
                access: SessionMode::Active.access(),
                choices: ModeSet::of(&[SessionMode::Guidance, SessionMode::Monitor]),
            },
            timeout: Duration::from_secs(120),
            change_from: None,
            tool: None,
        }
    }

    #[test]
    fn a_clear_yes_accepts_as_asked_and_a_choice_narrows() {
        let question = question();
        for yes in ["y", "Y\n", " yes ", "YES", "1"] {
            assert_eq!(parse_answer(yes, &question), Answer::Accept(SessionMode::Active), "{yes:?}");
        }
        assert_eq!(parse_answer("3", &question), Answer::Accept(SessionMode::Monitor));
        assert_eq!(parse_answer(" monitor\n", &question), Answer::Accept(SessionMode::Monitor));
        assert_eq!(parse_answer("2", &question), Answer::Accept(SessionMode::Guidance));
        for no in ["", "n", "no", "yep", "y es", "ja", "0", "4", "chat", "-1"] {
            assert_eq!(parse_answer(no, &question), Answer::Reject, "{no:?}");
        }
    }

    #[test]
    fn the_prompt_names_the_technician_mode_access_choices_and_time() {
        let text = prompt_text(&question());
        assert!(text.starts_with("Tess Tech asks for a remote session on this computer in Active mode."), "{text}");
        assert!(text.contains("see your screen, use your mouse and keyboard"), "{text}");
        assert!(
            text.contains("3       accept only Monitor mode: The technician sees your screen but cannot"),
            "{text}"
        );
        assert!(text.contains("no answer within 120 s"), "{text}");
    }

    #[tokio::test]
    async fn pre_approval_accepts_the_session_at_once_but_no_later_widening() {
        assert_eq!(PreApproved.ask(&question()).await, Ok(Answer::Accept(SessionMode::Active)));
        let change = Question { change_from: Some(SessionMode::Monitor), ..question() };
        assert_eq!(PreApproved.ask(&change).await, Ok(Answer::Reject));
    }

    #[test]
    fn the_technicians_name_cannot_steer_the_terminal() {
        let hostile = Question { technician: "Tess\u{1b}[2J\u{7}".into(), ..question() };
        assert!(prompt_text(&hostile).starts_with("Tess[2J asks for a remote session"), "{}", prompt_text(&hostile));
    }

    #[test]
    fn a_change_of_mode_says_from_what_to_what() {
        let change = Question { change_from: Some(SessionMode::Monitor), ..question() };
        let text = prompt_text(&change);
        assert!(text.starts_with("Tess Tech asks to change the session from Monitor to Active mode."), "{text}");
    }
}
