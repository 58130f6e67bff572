//! `AnalyzeResponse`, written by hand instead of generated, so that a stored article's analysis
//! can be sent as bytes encoded once. Encoding a full analysis (hundreds of nested messages) on
//! every request costs far more than the RPC itself; with the bytes cached, Analyze of a stored
//! article costs about what a health check does.
//!
//! On the wire and in JSON it is exactly the message in `article_analysis_service.proto`:
//! `message AnalyzeResponse { Analysis analysis = 1; }`.

use prost::{
    bytes::{Buf, BufMut, Bytes},
    encoding::{self, DecodeContext, WireType},
    DecodeError, Message,
};

use super::Analysis;

#[derive(Clone, Debug, Default, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct AnalyzeResponse {
    /// The analysis. None in a response built with [`AnalyzeResponse::pre_encoded`].
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub analysis: Option<Analysis>,
    /// The encoded `Analysis`, sent as field 1 instead of `analysis` when set.
    #[serde(skip)]
    encoded_analysis: Option<Bytes>,
}

impl AnalyzeResponse {
    pub fn new(analysis: Analysis) -> AnalyzeResponse {
        AnalyzeResponse {
            analysis: Some(analysis),
            encoded_analysis: None,
        }
    }

    /// A response whose analysis is already encoded (`Analysis::encode_to_vec`).
    pub fn pre_encoded(encoded_analysis: Bytes) -> AnalyzeResponse {
        AnalyzeResponse {
            analysis: None,
            encoded_analysis: Some(encoded_analysis),
        }
    }
}

const ANALYSIS_TAG: u32 = 1;

impl Message for AnalyzeResponse {
    fn encode_raw(&self, buf: &mut impl BufMut) {
        if let Some(bytes) = &self.encoded_analysis {
            encoding::encode_key(ANALYSIS_TAG, WireType::LengthDelimited, buf);
            encoding::encode_varint(bytes.len() as u64, buf);
            buf.put_slice(bytes);
        } else if let Some(analysis) = &self.analysis {
            encoding::message::encode(ANALYSIS_TAG, analysis, buf);
        }
    }

    fn merge_field(
        &mut self,
        tag: u32,
        wire_type: WireType,
        buf: &mut impl Buf,
        ctx: DecodeContext,
    ) -> Result<(), DecodeError> {
        if tag == ANALYSIS_TAG {
            let analysis = self.analysis.get_or_insert_with(Analysis::default);
            encoding::message::merge(wire_type, analysis, buf, ctx)
        } else {
            encoding::skip_field(wire_type, tag, buf, ctx)
        }
    }

    fn encoded_len(&self) -> usize {
        if let Some(bytes) = &self.encoded_analysis {
            encoding::key_len(ANALYSIS_TAG)
                + encoding::encoded_len_varint(bytes.len() as u64)
                + bytes.len()
        } else if let Some(analysis) = &self.analysis {
            encoding::message::encoded_len(ANALYSIS_TAG, analysis)
        } else {
            0
        }
    }

    fn clear(&mut self) {
        self.analysis = None;
        self.encoded_analysis = None;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pre_encoded_and_plain_responses_are_the_same_bytes() {
        let analysis = Analysis {
            article_id: "a-1".into(),
            language: "en".into(),
            engine_version: "test".into(),
            ..Analysis::default()
        };
        let plain = AnalyzeResponse::new(analysis.clone()).encode_to_vec();
        let cached = AnalyzeResponse::pre_encoded(analysis.encode_to_vec().into());
        assert_eq!(cached.encoded_len(), plain.len());
        assert_eq!(cached.encode_to_vec(), plain);
        let decoded = AnalyzeResponse::decode(plain.as_slice()).unwrap();
        assert_eq!(decoded.analysis, Some(analysis));
    }

    #[test]
    fn json_is_the_proto3_mapping() {
        let response = AnalyzeResponse::new(Analysis {
            article_id: "a-1".into(),
            ..Analysis::default()
        });
        let json = serde_json::to_string(&response).unwrap();
        assert_eq!(json, r#"{"analysis":{"articleId":"a-1"}}"#);
        let back: AnalyzeResponse = serde_json::from_str(&json).unwrap();
        assert_eq!(back, response);
    }
}
