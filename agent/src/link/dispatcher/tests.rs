//! The dispatcher against a real pinned key and real sessions (bound to
//! loopback): requests, consent, grants, modes and the person's requests.
#![allow(clippy::unwrap_used)]
use super::*;
use crate::consent::Answer;
use crate::consent::Ask;
use crate::link::LinkOptions;
use crate::link::PersonRequest;
use crate::session::SessionConfig;
use crate::trust::ServerTrust;
use ed25519_dalek::SigningKey;
use std::sync::Arc;
use tether_shared::signal::ModeStep;

fn server_key() -> SigningKey {
    SigningKey::from_bytes(&[3; 32])
}

fn grant_for(session: &str, target: &str, unattended: bool) -> Grant {
    let now = unix_millis();
    Grant {
        session_id: session.into(),
        technician_id: "t1".into(),
        technician_name: "tech".into(),
        target: target.into(),
        mode: SessionMode::Active,
        access: SessionMode::Active.access(),
        controller_fingerprint: None,
        unattended,
        allowed_modes: tether_shared::mode::ModeSet::of(&[SessionMode::Active, SessionMode::Monitor]),
        user_acceptance: true,
        assent_each_time: tether_shared::access::AccessSet::all(),
        acceptance_timeout_secs: 120,
        max_file_mib: Some(10_240),
        issued_at: now,
        expires_at: now + 60_000,
        key_id: String::new(),
    }
}

fn request(id: &str, grant: Option<SignedGrant>) -> ServerToAgent {
    ServerToAgent::SessionRequest { session_id: id.into(), technician: "tech".into(), ice_servers: vec![], grant }
}

/// A request for `id` with a grant the server key signed for agent `a1`.
fn granted(id: &str) -> ServerToAgent {
    request(id, Some(tether_shared::grant::sign(&grant_for(id, "a1", true), &server_key())))
}

fn enrolled(unattended: bool) -> Consent {
    Consent::Enrolled { agent_id: "a1".into(), floor: LocalFloor { always_ask: false, never_unattended: !unattended } }
}

fn options(consent: Consent) -> LinkOptions {
    LinkOptions {
        consent,
        session: SessionConfig { udp_addrs: vec!["127.0.0.1:0".into()], ..SessionConfig::default() },
        notify: crate::notice::Notify::ignore(),
        trust: ServerTrust::pinned(server_key().verifying_key()),
        asker: None,
        requests: None,
    }
}

fn is_bye(message: &AgentToServer, id: &str) -> bool {
    matches!(message, AgentToServer::Signal { session_id, signal: Signal::Bye { .. } } if session_id == id)
}

#[tokio::test]
async fn without_consent_requests_are_declined_with_a_bye() {
    let (events, _receiver) = mpsc::unbounded_channel();
    let mut dispatcher = Dispatcher::new(options(enrolled(false)), events);
    let reply = dispatcher.on_server_message(granted("s1")).await;
    assert!(matches!(&reply[..], [bye] if is_bye(bye, "s1")), "{reply:?}");
    assert_eq!(dispatcher.session_count(), 0);
    let offer =
        ServerToAgent::Signal { session_id: "s1".into(), signal: Signal::Offer { negotiation: 1, sdp: "v=0".into() } };
    assert_eq!(dispatcher.on_server_message(offer).await, vec![]);
}

#[tokio::test]
async fn unattended_needs_the_policy_and_this_computers_opt_in_and_a_verified_grant() {
    let (events, _receiver) = mpsc::unbounded_channel();
    let mut dispatcher = Dispatcher::new(options(enrolled(true)), events);
    let refused_grant = |reply: &[AgentToServer], id: &str| {
        matches!(reply, [AgentToServer::Refused { session_id, refusal }, bye]
            if session_id == id && refusal.what == Refused::Grant && is_bye(bye, id))
    };
    let reply = dispatcher.on_server_message(request("s1", None)).await;
    assert!(refused_grant(&reply, "s1"), "no grant: {reply:?}");
    let forged = tether_shared::grant::sign(&grant_for("s2", "a1", true), &SigningKey::from_bytes(&[9; 32]));
    let reply = dispatcher.on_server_message(request("s2", Some(forged))).await;
    assert!(refused_grant(&reply, "s2"), "another key: {reply:?}");
    let elsewhere = tether_shared::grant::sign(&grant_for("s3", "a2", true), &server_key());
    let reply = dispatcher.on_server_message(request("s3", Some(elsewhere))).await;
    assert!(refused_grant(&reply, "s3"), "another computer: {reply:?}");
    let attended = tether_shared::grant::sign(&grant_for("s4", "a1", false), &server_key());
    let reply = dispatcher.on_server_message(request("s4", Some(attended))).await;
    assert!(matches!(&reply[..], [bye] if is_bye(bye, "s4")), "the policy forbids unattended: {reply:?}");
    assert_eq!(dispatcher.session_count(), 0);
    let mut asks = Dispatcher::new(
        options(Consent::Enrolled {
            agent_id: "a1".into(),
            floor: LocalFloor { always_ask: true, never_unattended: false },
        }),
        mpsc::unbounded_channel().0,
    );
    let reply = asks.on_server_message(granted("s5")).await;
    assert!(matches!(&reply[..], [bye] if is_bye(bye, "s5")), "always ask wins: {reply:?}");
}

#[tokio::test]
async fn a_grant_that_does_not_verify_ends_its_session() {
    let (events, _receiver) = mpsc::unbounded_channel();
    let mut dispatcher = Dispatcher::new(options(enrolled(true)), events);
    assert_eq!(dispatcher.on_server_message(granted("s1")).await, vec![]);
    let mut expired = grant_for("s1", "a1", true);
    (expired.issued_at, expired.expires_at) = (expired.issued_at - 600_000, expired.issued_at - 300_000);
    let message = ServerToAgent::Grant {
        session_id: "s1".into(),
        grant: tether_shared::grant::sign(&expired, &server_key()),
        requested: false,
    };
    let reply = dispatcher.on_server_message(message).await;
    assert!(
        matches!(&reply[..], [AgentToServer::Refused { refusal, .. }, bye]
            if refusal.reason == "the grant has expired" && is_bye(bye, "s1")),
        "{reply:?}"
    );
    assert_eq!(dispatcher.session_count(), 0);
    assert!(dispatcher.last_ended().unwrap().contains("expired"));
}

#[tokio::test]
async fn session_signals_go_to_the_server_and_ended_sessions_are_forgotten() {
    let (events, _receiver) = mpsc::unbounded_channel();
    let mut dispatcher = Dispatcher::new(options(enrolled(true)), events);
    assert_eq!(dispatcher.on_server_message(granted("s1")).await, vec![]);
    assert_eq!(dispatcher.session_count(), 1);
    let duplicate = dispatcher.on_server_message(granted("s1")).await;
    assert!(matches!(&duplicate[..], [bye] if is_bye(bye, "s1")), "{duplicate:?}");

    let answer =
        SessionEvent::Signal { session_id: "s1".into(), signal: Signal::Answer { negotiation: 1, sdp: "v=0".into() } };
    assert_eq!(
        dispatcher.on_session_event(answer).await,
        vec![AgentToServer::Signal {
            session_id: "s1".into(),
            signal: Signal::Answer { negotiation: 1, sdp: "v=0".into() }
        }]
    );
    let ended = SessionEvent::Ended { session_id: "s1".into(), reason: "done".into() };
    assert_eq!(dispatcher.on_session_event(ended).await, vec![]);
    assert_eq!(dispatcher.session_count(), 0);
}

#[tokio::test]
async fn a_code_admits_its_own_session_once_and_nothing_else() {
    let (events, _receiver) = mpsc::unbounded_channel();
    let consent = Consent::Code {
        session_id: "s1".into(),
        accepted: Acceptance::CodeEntered,
        offered: SessionMode::Active,
        always_ask: false,
    };
    let mut dispatcher = Dispatcher::new(options(consent), events);
    let other = dispatcher.on_server_message(request("s2", None)).await;
    assert!(matches!(&other[..], [bye] if is_bye(bye, "s2")), "{other:?}");
    assert_eq!(dispatcher.on_server_message(request("s1", None)).await, vec![]);
    assert_eq!(dispatcher.session_count(), 1);
    // The server may announce the session the code started: no bye.
    assert_eq!(dispatcher.on_server_message(request("s1", None)).await, vec![]);
    assert_eq!(dispatcher.session_count(), 1);
    // Its grants name the code's target.
    let wrong_target = tether_shared::grant::sign(&grant_for("s1", "a1", false), &server_key());
    let reply = dispatcher
        .on_server_message(ServerToAgent::Grant { session_id: "s1".into(), grant: wrong_target, requested: false })
        .await;
    assert!(matches!(&reply[..], [AgentToServer::Refused { .. }, _]), "{reply:?}");
}

/// Answers every question with `answer` at once (`None`: never), and
/// remembers what it was asked and what it withdrew.
#[derive(Debug, Default)]
struct Person {
    answer: Option<crate::consent::Answer>,
    asked: std::sync::Mutex<Vec<crate::consent::Question>>,
    withdrawn: std::sync::Mutex<Vec<String>>,
    /// Kept so an unanswered question stays open until its deadline.
    replies: std::sync::Mutex<Vec<tokio::sync::oneshot::Sender<crate::consent::Answer>>>,
}

impl Ask for Person {
    fn ask(&self, question: &crate::consent::Question) -> tokio::sync::oneshot::Receiver<crate::consent::Answer> {
        self.asked.lock().unwrap().push(question.clone());
        let (reply, answer) = tokio::sync::oneshot::channel();
        match self.answer {
            Some(answer) => reply.send(answer).unwrap(),
            None => self.replies.lock().unwrap().push(reply),
        }
        answer
    }

    fn withdraw(&self, session_id: &str) {
        self.withdrawn.lock().unwrap().push(session_id.to_owned());
    }
}

fn attended(person: &Arc<Person>) -> LinkOptions {
    LinkOptions { asker: Some(person.clone()), ..options(enrolled(false)) }
}

/// A request for `id` whose grant forbids unattended access (timeout 120 s).
fn attended_request(id: &str) -> ServerToAgent {
    request(id, Some(tether_shared::grant::sign(&grant_for(id, "a1", false), &server_key())))
}

fn consent_step(message: &AgentToServer) -> Option<tether_shared::signal::ConsentStep> {
    match message {
        AgentToServer::Consent { step, .. } => Some(*step),
        _ => None,
    }
}

#[tokio::test]
async fn an_attended_request_asks_the_person_and_starts_in_the_mode_they_pick() {
    use tether_shared::signal::ConsentStep;
    let person = Arc::new(Person { answer: Some(Answer::Accept(SessionMode::Monitor)), ..Person::default() });
    let (events, mut receiver) = mpsc::unbounded_channel();
    let mut dispatcher = Dispatcher::new(attended(&person), events);
    let asked = dispatcher.on_server_message(attended_request("s1")).await;
    assert_eq!(
        asked,
        vec![AgentToServer::Consent { session_id: "s1".into(), step: ConsentStep::Asking { timeout_secs: 120 } }]
    );
    let question = person.asked.lock().unwrap()[0].clone();
    assert_eq!(question.technician, "tech", "the grant's signed name");
    assert_eq!(question.offer.mode, SessionMode::Active);
    assert!(question.offer.choices.contains(SessionMode::Monitor), "{question:?}");
    assert_eq!(dispatcher.waiting_count(), 1);
    assert_eq!(dispatcher.session_count(), 0, "nothing runs before the answer");
    // An offer meanwhile is kept for the session, not answered.
    let offer =
        ServerToAgent::Signal { session_id: "s1".into(), signal: Signal::Offer { negotiation: 1, sdp: "v=0".into() } };
    assert_eq!(dispatcher.on_server_message(offer).await, vec![]);

    let answered = receiver.recv().await.unwrap();
    let replies = dispatcher.on_session_event(answered).await;
    let steps: Vec<_> = replies.iter().filter_map(consent_step).collect();
    assert_eq!(steps, vec![ConsentStep::Accepted { mode: Some(SessionMode::Monitor) }]);
    assert_eq!((dispatcher.waiting_count(), dispatcher.session_count()), (0, 1));
    assert_eq!(dispatcher.mode_of("s1"), Some(SessionMode::Monitor));
}

#[tokio::test]
async fn a_rejection_declines_and_nobody_to_ask_declines_at_once() {
    use tether_shared::signal::ConsentStep;
    let person = Arc::new(Person { answer: Some(Answer::Reject), ..Person::default() });
    let (events, mut receiver) = mpsc::unbounded_channel();
    let mut dispatcher = Dispatcher::new(attended(&person), events);
    dispatcher.on_server_message(attended_request("s1")).await;
    let replies = dispatcher.on_session_event(receiver.recv().await.unwrap()).await;
    assert!(
        matches!(&replies[..], [AgentToServer::Consent { step: ConsentStep::Rejected, .. }, bye] if is_bye(bye, "s1")),
        "{replies:?}"
    );
    assert_eq!((dispatcher.waiting_count(), dispatcher.session_count()), (0, 0));

    let mut mute = Dispatcher::new(options(enrolled(false)), mpsc::unbounded_channel().0);
    let reply = mute.on_server_message(attended_request("s2")).await;
    assert!(matches!(&reply[..], [bye] if is_bye(bye, "s2")), "{reply:?}");
}

#[tokio::test(start_paused = true)]
async fn no_answer_by_the_deadline_declines_and_takes_the_question_away() {
    use tether_shared::signal::ConsentStep;
    let person = Arc::new(Person::default());
    let (events, mut receiver) = mpsc::unbounded_channel();
    let mut dispatcher = Dispatcher::new(attended(&person), events);
    dispatcher.on_server_message(attended_request("s1")).await;
    // The paused clock jumps to the deadline.
    let due = receiver.recv().await.unwrap();
    assert!(matches!(&due, SessionEvent::Consent { answer: None, .. }), "{due:?}");
    let replies = dispatcher.on_session_event(due).await;
    assert!(
        matches!(&replies[..], [AgentToServer::Consent { step: ConsentStep::NoAnswer, .. }, bye] if is_bye(bye, "s1")),
        "{replies:?}"
    );
    assert_eq!(*person.withdrawn.lock().unwrap(), vec!["s1".to_owned()]);
}

#[tokio::test]
async fn a_bye_while_asking_withdraws_the_question_without_a_reply() {
    let person = Arc::new(Person::default());
    let mut dispatcher = Dispatcher::new(attended(&person), mpsc::unbounded_channel().0);
    dispatcher.on_server_message(attended_request("s1")).await;
    let bye = ServerToAgent::Signal { session_id: "s1".into(), signal: Signal::Bye { reason: "gone".into() } };
    assert_eq!(dispatcher.on_server_message(bye).await, vec![]);
    assert_eq!(*person.withdrawn.lock().unwrap(), vec!["s1".to_owned()]);
    assert_eq!((dispatcher.waiting_count(), dispatcher.session_count()), (0, 0));
}

#[tokio::test]
async fn the_person_ends_a_session_here_and_the_server_hears_a_bye() {
    let person = Arc::new(Person { answer: Some(Answer::Accept(SessionMode::Active)), ..Person::default() });
    let (events, mut receiver) = mpsc::unbounded_channel();
    let mut dispatcher = Dispatcher::new(attended(&person), events);
    dispatcher.on_server_message(attended_request("s1")).await;
    dispatcher.on_session_event(receiver.recv().await.unwrap()).await;
    assert_eq!(dispatcher.session_count(), 1);
    let reply = dispatcher.end_here("s1");
    assert!(matches!(&reply[..], [bye] if is_bye(bye, "s1")), "{reply:?}");
    assert_eq!(dispatcher.session_count(), 0);
    assert_eq!(dispatcher.last_ended(), Some("the person at the computer ended the session"));
    assert_eq!(dispatcher.end_here("s1"), vec![], "only once");
}

/// A signed grant for running session `id` on `a1`, in `mode`.
fn grant_message(id: &str, mode: SessionMode) -> ServerToAgent {
    let grant = Grant { mode, access: mode.access(), ..grant_for(id, "a1", false) };
    let grant = tether_shared::grant::sign(&grant, &server_key());
    ServerToAgent::Grant { session_id: id.into(), grant, requested: true }
}

fn mode_steps(replies: &[AgentToServer]) -> Vec<ModeStep> {
    replies
        .iter()
        .filter_map(|reply| match reply {
            AgentToServer::Mode { step, .. } => Some(*step),
            _ => None,
        })
        .collect()
}

#[tokio::test]
async fn a_wider_mode_is_put_to_the_person_and_takes_effect_only_on_their_yes() {
    use tether_shared::signal::{ModeChangedBy, ModeRefusal};
    let person = Arc::new(Person { answer: Some(Answer::Accept(SessionMode::Monitor)), ..Person::default() });
    let (events, mut receiver) = mpsc::unbounded_channel();
    let mut dispatcher = Dispatcher::new(attended(&person), events);
    dispatcher.on_server_message(attended_request("s1")).await;
    dispatcher.on_session_event(receiver.recv().await.unwrap()).await;
    assert_eq!(dispatcher.mode_of("s1"), Some(SessionMode::Monitor));

    // The technician asks for Active: the person is asked (Monitor is no answer to it).
    let replies = dispatcher.on_server_message(grant_message("s1", SessionMode::Active)).await;
    assert_eq!(mode_steps(&replies), vec![ModeStep::Asking { mode: SessionMode::Active, timeout_secs: 120 }]);
    let question = person.asked.lock().unwrap().last().cloned().unwrap();
    assert_eq!(question.change_from, Some(SessionMode::Monitor));
    let answered = receiver.recv().await.unwrap();
    assert!(matches!(answered, SessionEvent::ModeAnswer { answer: Some(Answer::Accept(SessionMode::Monitor)), .. }));
    assert_eq!(dispatcher.on_session_event(answered).await, vec![], "a pick not offered is refused");
    assert_eq!(dispatcher.mode_of("s1"), Some(SessionMode::Monitor), "nothing wider meanwhile");

    // A narrowing from the person's page drops the open question and applies at once.
    let replies = dispatcher.on_person_request("s1", PersonRequest::Narrow(SessionMode::Chat)).await;
    assert_eq!(
        mode_steps(&replies),
        vec![
            ModeStep::Refused { mode: SessionMode::Active, reason: ModeRefusal::Rejected },
            ModeStep::InForce { mode: SessionMode::Chat, by: ModeChangedBy::Person },
        ]
    );
    assert_eq!(person.withdrawn.lock().unwrap().last().map(String::as_str), Some("s1"));
    assert_eq!(dispatcher.mode_of("s1"), Some(SessionMode::Chat));
    assert_eq!(dispatcher.on_person_request("s1", PersonRequest::Narrow(SessionMode::Active)).await, vec![]);
}

#[tokio::test]
async fn an_unattended_session_follows_its_grants_and_a_yes_widens_an_attended_one() {
    use tether_shared::signal::ModeChangedBy;
    let (events, _receiver) = mpsc::unbounded_channel();
    let mut dispatcher = Dispatcher::new(options(enrolled(true)), events);
    dispatcher.on_server_message(granted("s1")).await;
    let replies = dispatcher.on_server_message(grant_message("s1", SessionMode::Monitor)).await;
    assert_eq!(
        mode_steps(&replies),
        vec![ModeStep::InForce { mode: SessionMode::Monitor, by: ModeChangedBy::Technician }]
    );
    let replies = dispatcher.on_server_message(grant_message("s1", SessionMode::Active)).await;
    assert_eq!(
        mode_steps(&replies),
        vec![ModeStep::InForce { mode: SessionMode::Active, by: ModeChangedBy::Technician }]
    );

    let person = Arc::new(Person { answer: Some(Answer::Accept(SessionMode::Active)), ..Person::default() });
    let (events, mut receiver) = mpsc::unbounded_channel();
    let mut dispatcher = Dispatcher::new(attended(&person), events);
    dispatcher.on_server_message(attended_request("s2")).await;
    dispatcher.on_session_event(receiver.recv().await.unwrap()).await;
    dispatcher.on_server_message(grant_message("s2", SessionMode::Monitor)).await;
    assert_eq!(dispatcher.mode_of("s2"), Some(SessionMode::Monitor), "a narrowing needs nobody");
    dispatcher.on_server_message(grant_message("s2", SessionMode::Active)).await;
    let replies = dispatcher.on_session_event(receiver.recv().await.unwrap()).await;
    assert_eq!(mode_steps(&replies), vec![ModeStep::InForce { mode: SessionMode::Active, by: ModeChangedBy::Person }]);
    assert_eq!(dispatcher.mode_of("s2"), Some(SessionMode::Active));
}

#[tokio::test]
async fn chat_reaches_the_person_only_for_a_running_session_and_their_lines_go_to_the_server() {
    use tether_shared::chat::{ChatLine, Speaker};
    let heard = Arc::new(std::sync::Mutex::new(Vec::new()));
    let notify = {
        let heard = heard.clone();
        crate::notice::Notify::new(move |notice| {
            if let Notice::Chat { session_id, line } = notice {
                heard.lock().unwrap().push((session_id.clone(), line.text.clone()));
            }
        })
    };
    let (events, _receiver) = mpsc::unbounded_channel();
    let mut dispatcher = Dispatcher::new(LinkOptions { notify, ..options(enrolled(true)) }, events);
    dispatcher.on_server_message(granted("s1")).await;
    let line = |text: &str| ChatLine { from: Speaker::Technician, name: "tech".into(), text: text.into(), at: 1 };
    let chat = |id: &str, text: &str| ServerToAgent::Chat { session_id: id.into(), line: line(text) };
    assert_eq!(dispatcher.on_server_message(chat("s1", "hello")).await, vec![]);
    assert_eq!(dispatcher.on_server_message(chat("s2", "not ours")).await, vec![]);
    // A server's escape codes never reach the terminal.
    assert_eq!(dispatcher.on_server_message(chat("s1", "\u{1b}[2Jcleared")).await, vec![]);
    let named =
        ServerToAgent::Chat { session_id: "s1".into(), line: ChatLine { name: "\u{1b}]0;x".into(), ..line("hi") } };
    assert_eq!(dispatcher.on_server_message(named).await, vec![]);
    assert_eq!(*heard.lock().unwrap(), vec![("s1".to_owned(), "hello".to_owned())]);

    let reply = dispatcher.on_person_request("s1", PersonRequest::Say("hi".into())).await;
    assert_eq!(reply, vec![AgentToServer::Chat { session_id: "s1".into(), text: "hi".into() }]);
    assert_eq!(dispatcher.on_person_request("s2", PersonRequest::Say("hi".into())).await, vec![]);
}
