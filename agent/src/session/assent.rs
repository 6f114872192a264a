//! The person's assent to a session's tools: the first time the controller
//! opens a tool whose access the policy wants allowed each time, the person
//! is asked (the same question screen as a change of mode); what they
//! allowed is remembered for the rest of the session. Uses within a tool
//! (browsing files, each incoming file) are asked the same way. The decision is
//! `tether_shared::tool::opening`; this is its thin driver.

use super::Reporter;
use crate::consent::{Answer, Ask};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tether_shared::access::AccessSet;
use tether_shared::consent::{Offer, Question, ToolUse};
use tether_shared::grant::Grant;
use tether_shared::mode::ModeSet;
use tether_shared::signal::ToolEvent;
use tether_shared::tool::{Opening, Tool, opening, use_of};

/// One session's record of what the person allowed, and whom to ask.
/// Cheap to clone: every channel task of the session holds one.
#[derive(Debug, Clone, Default)]
pub struct ToolAssent {
    asker: Option<Arc<dyn Ask>>,
    unattended: bool,
    // A std mutex: held only to read or add a flag, never across an await.
    allowed: Arc<Mutex<AccessSet>>,
}

impl ToolAssent {
    /// `asker`: who can be asked (none: nobody); `unattended`: this
    /// computer's own rules let the session run with nobody asked.
    pub fn new(asker: Option<Arc<dyn Ask>>, unattended: bool) -> Self {
        Self { asker, unattended, allowed: Arc::default() }
    }

    fn allowed(&self) -> AccessSet {
        *self.allowed.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Whether `tool` may be served under `grant`, asking the person first
    /// where it must; the error is the refusal's reason.
    pub(crate) async fn admit(&self, tool: Tool, grant: Option<&Grant>, reporter: &Reporter) -> Result<(), String> {
        match opening(tool, grant, self.allowed(), self.unattended, self.asker.is_some()) {
            Opening::Serve => Ok(()),
            Opening::Refuse(reason) => Err(reason),
            Opening::Ask => {
                let (Some(asker), Some(grant)) = (&self.asker, grant) else {
                    return Err("nobody can be asked".into());
                };
                self.ask(asker.as_ref(), ToolUse { access: tool.needs(), detail: None }, grant, reporter).await
            }
        }
    }

    /// Whether one use of `tool.access` within a served tool goes ahead
    /// (`tether_shared::tool::use_of`): browsing or taking files once
    /// allowed, an incoming file (`each_time`) every time.
    pub(crate) async fn allow_use(
        &self,
        tool: ToolUse,
        each_time: bool,
        grant: &Grant,
        reporter: &Reporter,
    ) -> Result<(), String> {
        match use_of(tool.access, grant, self.allowed(), self.unattended, self.asker.is_some(), each_time) {
            Opening::Serve => Ok(()),
            Opening::Refuse(reason) => Err(reason),
            Opening::Ask => {
                let Some(asker) = &self.asker else { return Err("nobody can be asked".into()) };
                self.ask(asker.as_ref(), tool, grant, reporter).await
            }
        }
    }

    async fn ask(&self, asker: &dyn Ask, tool: ToolUse, grant: &Grant, reporter: &Reporter) -> Result<(), String> {
        let access = tool.access;
        let timeout = Duration::from_secs(u64::from(grant.acceptance_timeout_secs.max(1)));
        let question = Question {
            session_id: grant.session_id.clone(),
            technician: grant.technician_name.clone(),
            offer: Offer { mode: grant.mode, access: AccessSet::of(&[access]), choices: ModeSet::empty() },
            timeout,
            change_from: Some(grant.mode),
            tool: Some(tool),
        };
        reporter.tool(ToolEvent::AccessAsked { access });
        let answer = tokio::time::timeout(timeout, asker.ask(&question)).await;
        match answer {
            Ok(Ok(Answer::Accept(_))) => {
                self.allowed.lock().unwrap_or_else(std::sync::PoisonError::into_inner).insert(access);
                reporter.tool(ToolEvent::AccessAllowed { access });
                Ok(())
            }
            Ok(Ok(Answer::Reject)) => {
                Err(format!("the person at the computer did not allow {}", access.label().to_lowercase()))
            }
            Ok(Err(_)) | Err(_) => {
                asker.withdraw(&grant.session_id);
                Err(format!("the person at the computer did not answer about {}", access.label().to_lowercase()))
            }
        }
    }
}
