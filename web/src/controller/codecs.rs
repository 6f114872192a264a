//! The order of video codecs in the controller's offer: H.264 Constrained
//! Baseline (`42e01f`, packetization mode 1) first — what the agent encodes
//! and what Chromium decodes in software without a GPU — then other H.264,
//! then the rest unchanged (retransmission and the other codecs stay
//! available).

/// Lower ranks go first in `setCodecPreferences`.
pub fn codec_rank(mime_type: &str, sdp_fmtp_line: Option<&str>) -> u8 {
    if !mime_type.eq_ignore_ascii_case("video/h264") {
        return 4;
    }
    let params: Vec<(&str, &str)> = sdp_fmtp_line
        .unwrap_or_default()
        .split(';')
        .filter_map(|pair| pair.trim().split_once('='))
        .map(|(name, value)| (name.trim(), value.trim()))
        .collect();
    let param = |name: &str| params.iter().find(|(key, _)| key.eq_ignore_ascii_case(name)).map(|(_, value)| *value);
    let profile = param("profile-level-id").unwrap_or("42001f").to_ascii_lowercase();
    let mode_one = param("packetization-mode") == Some("1");
    match (profile.get(..4), mode_one) {
        (Some("42e0"), true) => 0,
        (Some("4200"), true) => 1,
        (_, true) => 2,
        (_, false) => 3,
    }
}

/// Indices of `codecs` (mime type, fmtp line) in preference order; the sort
/// is stable, so the browser's order holds within a rank.
pub fn preference_order(codecs: &[(String, Option<String>)]) -> Vec<usize> {
    let mut order: Vec<usize> = (0..codecs.len()).collect();
    order.sort_by_key(|&i| codec_rank(&codecs[i].0, codecs[i].1.as_deref()));
    order
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn constrained_baseline_comes_first() {
        let codec = |mime: &str, fmtp: &str| (mime.to_owned(), (!fmtp.is_empty()).then(|| fmtp.to_owned()));
        let codecs = vec![
            codec("video/VP8", ""),
            codec("video/rtx", "apt=96"),
            codec("video/H264", "level-asymmetry-allowed=1;packetization-mode=0;profile-level-id=42e01f"),
            codec("video/H264", "level-asymmetry-allowed=1;packetization-mode=1;profile-level-id=4d001f"),
            codec("video/H264", "level-asymmetry-allowed=1;packetization-mode=1;profile-level-id=42001f"),
            codec("video/H264", "level-asymmetry-allowed=1; packetization-mode=1; profile-level-id=42E01F"),
            codec("video/AV1", "level-idx=5;profile=0;tier=0"),
        ];
        assert_eq!(preference_order(&codecs), vec![5, 4, 3, 2, 0, 1, 6]);
    }

    #[test]
    fn ranks() {
        assert_eq!(codec_rank("video/H264", Some("packetization-mode=1;profile-level-id=42e01f")), 0);
        assert_eq!(codec_rank("video/h264", Some("packetization-mode=1")), 1);
        assert_eq!(codec_rank("video/H264", None), 3);
        assert_eq!(codec_rank("video/red", None), 4);
    }
}
