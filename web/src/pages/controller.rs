//! The live session with one target (`/sessions/{id}`): the remote screen
//! with its input, the state line, the toolbar and the stats overlay; beside
//! it the mode, the chat, the clipboard, files and the system information.

use crate::components::alert::{Alert, AlertKind};
use crate::components::chat_panel::ChatPanel;
use crate::components::clipboard_panel::ClipboardPanel;
use crate::components::connection_status::ConnectionStatus;
use crate::components::controller_toolbar::ControllerToolbar;
use crate::components::files_panel::FilesPanel;
use crate::components::guide_panel::GuidePanel;
use crate::components::lock_button::LockButton;
use crate::components::mode_picker::ModePicker;
use crate::components::monitor_picker::MonitorPicker;
use crate::components::page_header::PageHeader;
use crate::components::privacy_button::PrivacyButton;
use crate::components::remote_screen::RemoteScreen;
use crate::components::screen_message::ScreenMessage;
use crate::components::stats_overlay::StatsOverlay;
use crate::components::system_panel::SystemPanel;
use crate::controller::ViewMode;
use crate::controller::machine::Status;
use crate::controller::runtime::{Controller, ControllerView};
use crate::session::Session;
use leptos::html::Video;
use leptos::prelude::*;
use leptos_router::hooks::{use_navigate, use_params_map};
use tether_shared::access::Access;
use tether_shared::chat::Speaker;
use tether_shared::control::QualityPreset;
use tether_shared::input::{InputEvent, ScreenSize};
use tether_shared::tool::Tool;

/// Connects on mount; leaving the page ends the session.
#[component]
pub fn ControllerPage() -> impl IntoView {
    let session = Session::use_context();
    let navigate = use_navigate();
    let session_id = use_params_map().with_untracked(|params| params.get("id")).unwrap_or_default();
    let video = NodeRef::<Video>::new();
    let state = ControllerView::new();
    let controller = StoredValue::new_local(Controller::start(session_id, session, video, state));
    on_cleanup(move || controller.with_value(Controller::stop));

    let mode = RwSignal::new(ViewMode::Fit);
    let show_stats = RwSignal::new(false);
    let picture = RwSignal::new(None::<ScreenSize>);
    let status = state.status;
    let live = Signal::derive(move || !status.with(Status::is_final));

    let on_input = Callback::new(move |event: InputEvent| {
        controller.with_value(|controller| controller.send_input(&event));
    });
    let on_secure_attention = Callback::new(move |()| on_input.run(InputEvent::SecureAttention));
    let back = Callback::new(move |()| navigate("/targets", Default::default()));
    let on_end = Callback::new(move |()| {
        controller.with_value(Controller::end);
        back.run(());
    });
    let on_retry = Callback::new(move |()| controller.with_value(Controller::retry));
    let on_quality = Callback::new(move |preset: QualityPreset| {
        controller.with_value(|controller| controller.set_quality(preset));
    });
    // Input goes out only while the mode in force gives control.
    let (input_open, session_mode) = (state.input_ready, state.session_mode);
    let can_control = Signal::derive(move || {
        input_open.get() && session_mode.get().is_none_or(|mode| mode.access().contains(Access::Control))
    });
    let can_lock = Signal::derive(move || {
        live.get() && session_mode.get().is_some_and(|mode| mode.access().contains(Access::LocalInputLock))
    });
    let on_lock = Callback::new(move |on| {
        controller.with_value(|controller| controller.lock_input(on));
    });
    let can_hide = Signal::derive(move || {
        live.get()
            && session_mode.get().is_some_and(|mode| {
                mode.access().contains(Access::PrivacyScreen) && mode.access().contains(Access::LocalInputLock)
            })
    });
    let on_privacy = Callback::new(move |on| {
        controller.with_value(|controller| controller.privacy_screen(on));
    });
    let on_show = Callback::new(move |view| {
        controller.with_value(|controller| controller.show(view));
    });
    let on_say = Callback::new(move |text: String| controller.with_value(|controller| controller.say(text)));
    let on_mode = Callback::new(move |mode| controller.with_value(|controller| controller.request_mode(mode)));
    let on_clipboard = Callback::new(move |text| controller.with_value(|controller| controller.send_clipboard(text)));
    let on_fetch_clipboard = Callback::new(move |()| controller.with_value(Controller::fetch_clipboard));
    let on_refresh_system = Callback::new(move |()| controller.with_value(Controller::refresh_system));
    let files = StoredValue::new_local(controller.with_value(Controller::files));
    // A tool is offered while the session lives and its mode includes the tool's access.
    let usable = move |tool: Tool| {
        Signal::derive(move || live.get() && session_mode.get().is_some_and(|mode| tool.allowed_by(mode.access())))
    };
    // Drawing: the tool picked counts only while the mode allows drawing.
    let draw_tool = RwSignal::new(None);
    let keep_drawings = RwSignal::new(false);
    let can_draw = usable(Tool::Guide);
    let drawing_with = Signal::derive(move || if can_draw.get() { draw_tool.get() } else { None });
    let on_shape = Callback::new(move |shape| {
        controller.with_value(|controller| controller.draw(shape, keep_drawings.get_untracked()));
    });
    let on_clear_drawing = Callback::new(move |()| controller.with_value(Controller::clear_drawing));
    let applied = state.applied;
    let screen = Signal::derive(move || applied.with(|applied| applied.map(|applied| applied.screen)));

    view! {
        <PageHeader title="Live session">
            <MonitorPicker monitors=state.monitors live=live on_show=on_show />
            <LockButton state=state.lock usable=can_lock on_lock=on_lock />
            <PrivacyButton state=state.privacy usable=can_hide on_privacy=on_privacy />
            <ControllerToolbar
                mode=mode
                show_stats=show_stats
                live=live
                input_ready=can_control
                applied=state.applied
                requested=state.requested
                on_quality=on_quality
                on_secure_attention=on_secure_attention
                on_end=on_end
            />
        </PageHeader>
        <ConnectionStatus
            status=status
            stats=state.stats
            input_ready=state.input_ready
            broker=state.broker
            agent_path=state.agent_path
            session_mode=state.session_mode
            local_use=state.local_use
        />
        <Alert message=state.notice kind=AlertKind::Warning testid="controller-notice" />
        // Beside the picture, so the picture keeps the page's height: the mode and the chat.
        <div class="session-layout">
            <RemoteScreen
                video=video
                mode=mode
                picture=picture
                screen=screen
                cursor=state.cursor
                input_ready=can_control
                on_input=on_input
                draw_tool=drawing_with
                on_shape=on_shape
            >
                <ScreenMessage
                    status=status
                    has_picture=Signal::derive(move || picture.with(Option::is_some))
                    on_retry=on_retry
                    on_back=back
                />
                <Show when=move || show_stats.get()>
                    <StatsOverlay stats=state.stats />
                </Show>
            </RemoteScreen>
            <aside class="session-side">
                <ModePicker current=state.session_mode request=state.mode_request live=live on_request=on_mode />
                <ChatPanel lines=state.chat me=Speaker::Technician enabled=live on_send=on_say />
                <ClipboardPanel status=state.clipboard received=state.remote_clipboard live=usable(Tool::Clipboard) on_send=on_clipboard on_fetch=on_fetch_clipboard />
                <FilesPanel view=state.files live=usable(Tool::Files) tools=files />
                <SystemPanel status=state.system report=state.report live=usable(Tool::System) on_refresh=on_refresh_system />
                <GuidePanel draw_tool=draw_tool keep=keep_drawings status=state.guide live=usable(Tool::Guide) on_clear=on_clear_drawing />
                <p class="small muted" data-testid="bar-note">
                    "The person sees a Tether bar at the top of their screen, with your name, the mode and an X that ends the session; it shows in your picture too."
                </p>
            </aside>
        </div>
    }
}
