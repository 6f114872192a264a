//! Fuzzes the clipboard, system, files and guide tools' decoders, both
//! directions, and the files channel's chunks: arbitrary bytes are refused
//! with a reason or decoded into a message within every cap that survives
//! a round trip, never a panic.

#![no_main]

use libfuzzer_sys::fuzz_target;
use tether_shared::files::wire;
use tether_shared::tool_message::encode;
use tether_shared::{clipboard, guidance, system_info};

fuzz_target!(|data: &[u8]| {
    if let Ok(message) = clipboard::decode_from_controller(data) {
        if let clipboard::ControllerToAgent::Set { text } = &message {
            assert!(text.len() <= clipboard::MAX_CLIPBOARD_BYTES);
        }
        assert_eq!(clipboard::decode_from_controller(encode(&message).as_bytes()), Ok(message));
    }
    if let Ok(message) = clipboard::decode_from_agent(data) {
        assert_eq!(clipboard::decode_from_agent(encode(&message).as_bytes()), Ok(message));
    }
    if let Ok(message) = system_info::decode_from_controller(data) {
        assert_eq!(system_info::decode_from_controller(encode(&message).as_bytes()), Ok(message));
    }
    if let Ok(message) = wire::decode_from_controller(data) {
        assert_eq!(wire::decode_from_controller(encode(&message).as_bytes()), Ok(message));
    }
    if let Ok(message) = wire::decode_from_agent(data) {
        assert_eq!(wire::decode_from_agent(encode(&message).as_bytes()), Ok(message));
    }
    if let Ok(message) = guidance::decode_from_controller(data) {
        if let guidance::ControllerToAgent::Draw { shape, .. } = &message {
            assert!(shape.points().len() <= guidance::MAX_STROKE_POINTS);
            // Whatever was accepted draws as lines without a panic.
            let _ = shape.segments();
        }
        assert_eq!(guidance::decode_from_controller(encode(&message).as_bytes()), Ok(message));
    }
    if let Ok(message) = guidance::decode_from_agent(data) {
        assert_eq!(guidance::decode_from_agent(encode(&message).as_bytes()), Ok(message));
    }
    if let Ok((offset, chunk)) = wire::decode_chunk(data) {
        assert!(chunk.len() <= wire::CHUNK_BYTES);
        assert_eq!(wire::encode_chunk(offset, chunk), data);
    }
    if let Ok(system_info::AgentToController::Report(report)) = system_info::decode_from_agent(data) {
        assert!(report.top_cpu.len() <= system_info::TOP_PROCESSES);
        assert!(report.disks.len() <= system_info::MAX_LISTED);
        assert!(report.host_name.len() <= system_info::MAX_TEXT_BYTES);
    }
});
