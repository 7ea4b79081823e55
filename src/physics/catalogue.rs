//! The built-in model catalogue: what inference needs to know about a served LLM.
//!
//! Figures come from each model's published `config.json` and model card (Hugging Face):
//! parameter count, transformer layers, key-value heads and head dimension (which set the
//! KV-cache size), and the context length the model was released with (without RoPE
//! scaling). The KV cache holds a key and a value vector per layer and KV head for every
//! token: `2 x layers x kv_heads x head_dim x 2 bytes` in BF16.

/// One model from the catalogue.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct ModelSpec {
    /// Identifier used in scenario files (e.g. `llama-3.1-8b`).
    pub id: &'static str,
    /// Parameters, billions.
    pub params_b: f64,
    /// Transformer layers.
    pub layers: u32,
    /// Key-value heads (grouped-query attention).
    pub kv_heads: u32,
    /// Dimension of one attention head.
    pub head_dim: u32,
    /// Context length, tokens.
    pub context_tokens: u32,
    /// Where the figures come from.
    pub source: &'static str,
}

impl ModelSpec {
    /// KV-cache bytes per token in BF16.
    pub fn kv_bytes_per_token(&self) -> f64 {
        2.0 * f64::from(self.layers) * f64::from(self.kv_heads) * f64::from(self.head_dim) * 2.0
    }
}

/// The catalogue.
pub const MODELS: &[ModelSpec] = &[
    ModelSpec {
        id: "llama-3-8b",
        params_b: 8.03,
        layers: 32,
        kv_heads: 8,
        head_dim: 128,
        context_tokens: 8192,
        source: "meta-llama/Meta-Llama-3-8B config.json and model card",
    },
    ModelSpec {
        id: "llama-3.1-8b",
        params_b: 8.03,
        layers: 32,
        kv_heads: 8,
        head_dim: 128,
        context_tokens: 131_072,
        source: "meta-llama/Llama-3.1-8B config.json and model card",
    },
    ModelSpec {
        id: "llama-3-70b",
        params_b: 70.6,
        layers: 80,
        kv_heads: 8,
        head_dim: 128,
        context_tokens: 8192,
        source: "meta-llama/Meta-Llama-3-70B config.json and model card",
    },
    ModelSpec {
        id: "llama-3.1-70b",
        params_b: 70.6,
        layers: 80,
        kv_heads: 8,
        head_dim: 128,
        context_tokens: 131_072,
        source: "meta-llama/Llama-3.1-70B config.json and model card",
    },
    ModelSpec {
        id: "llama-3.1-405b",
        params_b: 405.0,
        layers: 126,
        kv_heads: 8,
        head_dim: 128,
        context_tokens: 131_072,
        source: "meta-llama/Llama-3.1-405B config.json and model card",
    },
    ModelSpec {
        id: "mistral-7b",
        params_b: 7.25,
        layers: 32,
        kv_heads: 8,
        head_dim: 128,
        context_tokens: 32_768,
        source: "mistralai/Mistral-7B-v0.3 config.json and model card",
    },
    ModelSpec {
        id: "qwen2.5-7b",
        params_b: 7.61,
        layers: 28,
        kv_heads: 4,
        head_dim: 128,
        context_tokens: 32_768,
        source: "Qwen/Qwen2.5-7B config.json and model card (without YaRN scaling)",
    },
    ModelSpec {
        id: "qwen2.5-72b",
        params_b: 72.7,
        layers: 80,
        kv_heads: 8,
        head_dim: 128,
        context_tokens: 32_768,
        source: "Qwen/Qwen2.5-72B config.json and model card (without YaRN scaling)",
    },
];

/// Looks up a model by its identifier.
pub fn find_model(id: &str) -> Option<&'static ModelSpec> {
    MODELS.iter().find(|m| m.id == id)
}

/// The identifiers of every model, for error messages.
pub fn model_ids() -> String {
    MODELS.iter().map(|m| m.id).collect::<Vec<_>>().join(", ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kv_cache_sizes_match_published_figures() {
        // Llama 3 8B: 32 layers x 8 KV heads x 128 x 2 (K and V) x 2 bytes = 128 KiB a token,
        // so its full 8k context takes 1 GiB.
        let m = find_model("llama-3-8b").expect("catalogued");
        assert_eq!(m.kv_bytes_per_token(), 131_072.0);
        assert_eq!(
            m.kv_bytes_per_token() * f64::from(m.context_tokens),
            1024.0 * 1024.0 * 1024.0
        );
        // Llama 3 70B: 80 layers -> 320 KiB a token.
        let m = find_model("llama-3.1-70b").expect("catalogued");
        assert_eq!(m.kv_bytes_per_token(), 327_680.0);
    }

    #[test]
    fn ids_are_unique() {
        for (i, m) in MODELS.iter().enumerate() {
            assert!(MODELS[..i].iter().all(|o| o.id != m.id), "{}", m.id);
            assert_eq!(find_model(m.id), Some(m));
        }
    }
}
