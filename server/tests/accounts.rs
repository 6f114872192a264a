//! Accounts end to end through the API: the first admin's forced password
//! change, creating and editing users, roles, disabling, password resets,
//! refresh and logout.

#![allow(clippy::unwrap_used)]

mod common;

use axum::body::Body;
use axum::http::{Method, Request, StatusCode, header};
use common::{ADMIN_PASSWORD, on_each_backend};
use serde_json::json;

#[tokio::test]
async fn first_admin_must_change_the_one_time_password() {
    on_each_backend(|app| async move {
        let token = app.token("admin", &app.first_admin_password).await;
        let reply = app.call(Method::GET, "/api/users", Some(&token), None).await;
        assert_eq!((reply.status, reply.error()), (StatusCode::FORBIDDEN, "password_change_required"));
        let me = app.call(Method::GET, "/api/me", Some(&token), None).await;
        assert_eq!(me.body["must_change_password"], json!(true));

        let weak = app
            .call(
                Method::POST,
                "/api/me/password",
                Some(&token),
                Some(json!({ "current_password": app.first_admin_password, "new_password": "short" })),
            )
            .await;
        assert_eq!((weak.status, weak.error()), (StatusCode::UNPROCESSABLE_ENTITY, "invalid_field"));

        let token = app.admin_token().await;
        let reply = app.call(Method::GET, "/api/users", Some(&token), None).await;
        assert_eq!(reply.status, StatusCode::OK);
        assert_eq!(reply.body.as_array().unwrap().len(), 1);
        assert_eq!(app.login("admin", &app.first_admin_password).await.status, StatusCode::UNAUTHORIZED);
        assert_eq!(app.login("admin", ADMIN_PASSWORD).await.status, StatusCode::OK);
    })
    .await;
}

#[tokio::test]
async fn admin_creates_users_with_roles_and_duties_stay_apart() {
    on_each_backend(|app| async move {
        let admin = app.admin_token().await;
        let technician = app.user_token(&admin, "tech", "technician").await;
        let auditor = app.user_token(&admin, "audrey", "auditor").await;

        let duplicate = app
            .call(
                Method::POST,
                "/api/users",
                Some(&admin),
                Some(json!({ "username": "tech", "display_name": "Again", "role": "auditor", "password": "another long password" })),
            )
            .await;
        assert_eq!((duplicate.status, duplicate.error()), (StatusCode::CONFLICT, "username_taken"));

        for (token, path) in [(&technician, "/api/users"), (&auditor, "/api/users"), (&admin, "/api/audit"), (&technician, "/api/audit")] {
            let reply = app.call(Method::GET, path, Some(token), None).await;
            assert_eq!(reply.status, StatusCode::FORBIDDEN, "{path}");
        }
        assert_eq!(app.call(Method::GET, "/api/audit", Some(&auditor), None).await.status, StatusCode::OK);
        let users = app.call(Method::GET, "/api/users", Some(&admin), None).await;
        let names: Vec<_> = users.body.as_array().unwrap().iter().map(|u| u["username"].as_str().unwrap()).collect();
        assert_eq!(names, ["admin", "audrey", "tech"]);
    })
    .await;
}

#[tokio::test]
async fn disabling_a_user_ends_their_sessions_and_blocks_login() {
    on_each_backend(|app| async move {
        let admin = app.admin_token().await;
        let technician = app.user_token(&admin, "tech", "technician").await;
        let id =
            app.call(Method::GET, "/api/me", Some(&technician), None).await.body["id"].as_str().unwrap().to_owned();

        let reply =
            app.call(Method::PATCH, &format!("/api/users/{id}"), Some(&admin), Some(json!({ "disabled": true }))).await;
        assert_eq!((reply.status, reply.body["disabled"].clone()), (StatusCode::OK, json!(true)));
        let after = app.call(Method::GET, "/api/me", Some(&technician), None).await;
        assert_eq!((after.status, after.error()), (StatusCode::UNAUTHORIZED, "session_ended"));
        let login = app.login("tech", "tech chosen password").await;
        assert_eq!((login.status, login.error()), (StatusCode::FORBIDDEN, "account_disabled"));

        app.call(Method::PATCH, &format!("/api/users/{id}"), Some(&admin), Some(json!({ "disabled": false }))).await;
        assert_eq!(app.login("tech", "tech chosen password").await.status, StatusCode::OK);
    })
    .await;
}

#[tokio::test]
async fn a_deleted_account_is_gone_but_its_name_stays_reserved() {
    on_each_backend(|app| async move {
        let admin = app.admin_token().await;
        let technician = app.user_token(&admin, "tech", "technician").await;
        let id = app.call(Method::GET, "/api/me", Some(&technician), None).await.body["id"].as_str().unwrap().to_owned();
        let admin_id = app.call(Method::GET, "/api/me", Some(&admin), None).await.body["id"].as_str().unwrap().to_owned();
        let path = format!("/api/users/{id}");

        let by_technician = app.call(Method::DELETE, &path, Some(&technician), None).await;
        assert_eq!(by_technician.status, StatusCode::FORBIDDEN);
        let own = app.call(Method::DELETE, &format!("/api/users/{admin_id}"), Some(&admin), None).await;
        assert_eq!((own.status, own.error()), (StatusCode::CONFLICT, "cannot_delete_self"));

        let deleted = app.call(Method::DELETE, &path, Some(&admin), None).await;
        assert_eq!(deleted.status, StatusCode::NO_CONTENT, "{:?}", deleted.body);
        assert!(app.audit_actions().await.iter().any(|action| action == "user.delete"));
        assert_eq!(app.call(Method::GET, "/api/me", Some(&technician), None).await.error(), "session_ended");
        let login = app.login("tech", "tech chosen password").await;
        assert_eq!((login.status, login.error()), (StatusCode::UNAUTHORIZED, "invalid_credentials"));
        let listed = app.call(Method::GET, "/api/users", Some(&admin), None).await;
        assert!(!listed.body.to_string().contains(&id), "a deleted account is not listed");
        let again = app.call(Method::DELETE, &path, Some(&admin), None).await;
        assert_eq!(again.status, StatusCode::NOT_FOUND);
        let revived = app.call(Method::PATCH, &path, Some(&admin), Some(json!({ "disabled": false }))).await;
        assert_eq!(revived.status, StatusCode::NOT_FOUND, "a deleted account cannot be re-enabled");
        let reused = app
            .call(
                Method::POST,
                "/api/users",
                Some(&admin),
                Some(json!({ "username": "tech", "display_name": "T", "role": "admin", "password": "long enough password" })),
            )
            .await;
        assert_eq!((reused.status, reused.error()), (StatusCode::CONFLICT, "username_taken"));
    })
    .await;
}

#[tokio::test]
async fn role_and_name_edits_apply_at_once() {
    on_each_backend(|app| async move {
        let admin = app.admin_token().await;
        let id = app.create_user(&admin, "carol", "technician", "carol initial password").await;
        let reply = app
            .call(
                Method::PATCH,
                &format!("/api/users/{id}"),
                Some(&admin),
                Some(json!({ "display_name": "Carol Auditor", "role": "auditor" })),
            )
            .await;
        assert_eq!(reply.status, StatusCode::OK);
        assert_eq!(
            (reply.body["role"].as_str(), reply.body["display_name"].as_str()),
            (Some("auditor"), Some("Carol Auditor"))
        );
        let missing = app.call(Method::PATCH, "/api/users/nope", Some(&admin), Some(json!({ "role": "admin" }))).await;
        assert_eq!(missing.status, StatusCode::NOT_FOUND);
    })
    .await;
}

#[tokio::test]
async fn the_last_admin_cannot_be_disabled_or_demoted() {
    on_each_backend(|app| async move {
        let admin = app.admin_token().await;
        let id = app.call(Method::GET, "/api/me", Some(&admin), None).await.body["id"].as_str().unwrap().to_owned();
        for change in [json!({ "disabled": true }), json!({ "role": "technician" })] {
            let reply = app.call(Method::PATCH, &format!("/api/users/{id}"), Some(&admin), Some(change)).await;
            assert_eq!((reply.status, reply.error()), (StatusCode::CONFLICT, "last_admin"));
        }
    })
    .await;
}

#[tokio::test]
async fn password_reset_gives_a_one_time_password() {
    on_each_backend(|app| async move {
        let admin = app.admin_token().await;
        let technician = app.user_token(&admin, "tech", "technician").await;
        let id =
            app.call(Method::GET, "/api/me", Some(&technician), None).await.body["id"].as_str().unwrap().to_owned();
        let reply = app
            .call(
                Method::POST,
                &format!("/api/users/{id}/password"),
                Some(&admin),
                Some(json!({ "password": "temporary password 1" })),
            )
            .await;
        assert_eq!(reply.status, StatusCode::NO_CONTENT);
        assert_eq!(app.call(Method::GET, "/api/me", Some(&technician), None).await.status, StatusCode::UNAUTHORIZED);
        assert_eq!(app.login("tech", "tech chosen password").await.status, StatusCode::UNAUTHORIZED);
        let token = app.token("tech", "temporary password 1").await;
        let reply = app.call(Method::GET, "/api/me", Some(&token), None).await;
        assert_eq!(reply.body["must_change_password"], json!(true));
    })
    .await;
}

#[tokio::test]
async fn refresh_rotates_and_logout_revokes() {
    on_each_backend(|app| async move {
        app.admin_token().await;
        let login = app.login("admin", ADMIN_PASSWORD).await;
        let token = login.body["access_token"].as_str().unwrap().to_owned();
        let cookie = login.refresh_cookie().expect("refresh cookie");

        let refresh = |cookie: String| {
            Request::builder()
                .method(Method::POST)
                .uri("/api/auth/refresh")
                .header(header::COOKIE, format!("tether_refresh={cookie}"))
                .body(Body::empty())
                .unwrap()
        };
        let first = app.send(refresh(cookie.clone())).await;
        assert_eq!(first.status, StatusCode::OK);
        let rotated = first.refresh_cookie().expect("rotated cookie");
        assert_ne!(rotated, cookie);
        assert_eq!(app.send(refresh(cookie)).await.status, StatusCode::UNAUTHORIZED, "old refresh token is dead");

        let logout = app.call(Method::POST, "/api/auth/logout", Some(&token), None).await;
        assert_eq!(logout.status, StatusCode::NO_CONTENT);
        assert_eq!(logout.refresh_cookie().as_deref(), Some(""));
        assert_eq!(app.call(Method::GET, "/api/me", Some(&token), None).await.status, StatusCode::UNAUTHORIZED);
        assert_eq!(app.send(refresh(rotated)).await.status, StatusCode::UNAUTHORIZED);
    })
    .await;
}

#[tokio::test]
async fn health_reports_ok() {
    on_each_backend(|app| async move {
        let reply = app.call(Method::GET, "/healthz", None, None).await;
        assert_eq!((reply.status, reply.body["status"].as_str()), (StatusCode::OK, Some("ok")));
    })
    .await;
}
