//! The typed calls for groups, policy assignments, the default policy, the
//! effective-policy preview and the Computers list (administrators;
//! auditors may read).

use super::{ApiFailure, AuthorizedApi, resource_url, send_empty, send_json};
use tether_shared::access_policy::Policy;
use tether_shared::groups::{
    AssignmentView, ComputerView, CreateAssignmentRequest, EffectivePolicyView, GroupKind, GroupRequest, GroupView,
    Named, UpdateComputerRequest,
};

/// The collection of a kind of group.
fn groups_url(kind: GroupKind) -> &'static str {
    match kind {
        GroupKind::Technician => "/api/technician-groups",
        GroupKind::Target => "/api/target-groups",
    }
}

impl AuthorizedApi {
    /// `GET /api/{kind}-groups`: every group with its members.
    pub async fn list_groups(&self, kind: GroupKind) -> Result<Vec<GroupView>, ApiFailure> {
        send_json(self.get(groups_url(kind)).build()).await
    }

    /// `POST /api/{kind}-groups`.
    pub async fn create_group(&self, kind: GroupKind, name: &str) -> Result<GroupView, ApiFailure> {
        send_json(self.post_json(groups_url(kind), &GroupRequest { name: name.to_owned() })).await
    }

    /// `PATCH /api/{kind}-groups/{id}`: renames it.
    pub async fn rename_group(&self, kind: GroupKind, id: &str, name: &str) -> Result<Named, ApiFailure> {
        let url = resource_url(groups_url(kind), id, "");
        send_json(self.patch(&url).json(&GroupRequest { name: name.to_owned() })).await
    }

    /// `DELETE /api/{kind}-groups/{id}`, with its members and assignments.
    pub async fn delete_group(&self, kind: GroupKind, id: &str) -> Result<(), ApiFailure> {
        send_empty(self.delete(&resource_url(groups_url(kind), id, "")).build()).await
    }

    /// `PUT` (`add`) or `DELETE` a member of a group.
    pub async fn set_member(&self, kind: GroupKind, group: &str, member: &str, add: bool) -> Result<(), ApiFailure> {
        let suffix = format!("/members/{}", String::from(js_sys::encode_uri_component(member)));
        let url = resource_url(groups_url(kind), group, &suffix);
        let request = if add { self.put(&url) } else { self.delete(&url) };
        send_empty(request.build()).await
    }

    /// `GET /api/policies/default`: the policy for pairs without one.
    pub async fn default_policy(&self) -> Result<Policy, ApiFailure> {
        send_json(self.get("/api/policies/default").build()).await
    }

    /// `PUT /api/policies/default`; the answer is what was saved.
    pub async fn save_default_policy(&self, policy: &Policy) -> Result<Policy, ApiFailure> {
        send_json(self.put("/api/policies/default").json(policy)).await
    }

    /// `GET /api/policy-assignments`.
    pub async fn list_assignments(&self) -> Result<Vec<AssignmentView>, ApiFailure> {
        send_json(self.get("/api/policy-assignments").build()).await
    }

    /// `POST /api/policy-assignments`: a policy for a pair without one.
    pub async fn create_assignment(&self, body: &CreateAssignmentRequest) -> Result<AssignmentView, ApiFailure> {
        send_json(self.post_json("/api/policy-assignments", body)).await
    }

    /// `PUT /api/policy-assignments/{id}`: replaces its policy.
    pub async fn save_assignment(&self, id: &str, policy: &Policy) -> Result<AssignmentView, ApiFailure> {
        send_json(self.put(&resource_url("/api/policy-assignments", id, "")).json(policy)).await
    }

    /// `DELETE /api/policy-assignments/{id}`.
    pub async fn delete_assignment(&self, id: &str) -> Result<(), ApiFailure> {
        send_empty(self.delete(&resource_url("/api/policy-assignments", id, "")).build()).await
    }

    /// `GET /api/policies/effective`: what a technician may do on a computer.
    pub async fn effective_policy(&self, technician: &str, target: &str) -> Result<EffectivePolicyView, ApiFailure> {
        let request = self.get("/api/policies/effective").query([("technician", technician), ("target", target)]);
        send_json(request.build()).await
    }

    /// `GET /api/computers`: every enrolled computer.
    pub async fn list_computers(&self) -> Result<Vec<ComputerView>, ApiFailure> {
        send_json(self.get("/api/computers").build()).await
    }

    /// `PATCH /api/computers/{id}`: renames it and/or sets its groups.
    pub async fn update_computer(&self, id: &str, body: &UpdateComputerRequest) -> Result<ComputerView, ApiFailure> {
        send_json(self.patch(&resource_url("/api/computers", id, "")).json(body)).await
    }

    /// `DELETE /api/computers/{id}`: revokes it; its sessions end.
    pub async fn revoke_computer(&self, id: &str) -> Result<(), ApiFailure> {
        send_empty(self.delete(&resource_url("/api/computers", id, "")).build()).await
    }
}
