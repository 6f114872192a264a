//! Fuzzes the parsing of every API request body (JSON) and of the audit
//! query string: any bytes must give a value or an error, never a panic, and
//! an accepted value must survive a round trip.

#![no_main]

use libfuzzer_sys::fuzz_target;
use serde::Serialize;
use serde::de::DeserializeOwned;
use tether_shared::api::{
    AuditQuery, ChangePasswordRequest, CreateUserRequest, LoginRequest, ResetPasswordRequest, UpdateUserRequest,
};

fn round_trips<T: DeserializeOwned + Serialize + PartialEq + std::fmt::Debug>(data: &[u8]) {
    if let Ok(value) = serde_json::from_slice::<T>(data) {
        let again: T = serde_json::from_str(&serde_json::to_string(&value).expect("serialize")).expect("reparse");
        assert_eq!(value, again);
    }
}

fuzz_target!(|data: &[u8]| {
    round_trips::<LoginRequest>(data);
    round_trips::<CreateUserRequest>(data);
    round_trips::<UpdateUserRequest>(data);
    round_trips::<ResetPasswordRequest>(data);
    round_trips::<ChangePasswordRequest>(data);
    round_trips::<tether_shared::broker::CreateBrokerRequest>(data);
    round_trips::<tether_shared::broker::CreateBrokerSessionRequest>(data);
    round_trips::<tether_shared::broker::RedeemCodeRequest>(data);
    round_trips::<tether_shared::policy::SessionPolicy>(data);
    if let Ok(policy) = serde_json::from_slice::<tether_shared::policy::SessionPolicy>(data) {
        let _ = policy.validate();
    }
    // The agent's loopback UI request and the server answers the agent reads.
    round_trips::<tether_shared::broker::LocalConnectRequest>(data);
    round_trips::<tether_shared::broker::LocalAcceptRequest>(data);
    round_trips::<tether_shared::broker::LocalAgentStatus>(data);
    round_trips::<tether_shared::broker::BrokerConfig>(data);
    round_trips::<tether_shared::broker::RedeemCodeResponse>(data);
    let _ = serde_urlencoded::from_bytes::<AuditQuery>(data);
    if let Ok(text) = std::str::from_utf8(data) {
        let _ = tether_shared::validate::username(text);
        let _ = tether_shared::validate::display_name(text);
        let _ = tether_shared::validate::password(text, "user");
    }
});
