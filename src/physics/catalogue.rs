//! The built-in model catalogue: what inference needs to know about a served LLM.
//!
//! Figures come from each model's published `config.json` and model card (Hugging Face):
//! parameter count, transformer layers, hidden size, attention and key-value heads, head
//! dimension, vocabulary and whether the input embedding is tied to the LM head, and the
//! context length the model was released with (without RoPE scaling). The KV cache holds a key
//! and a value vector per layer and KV head for every token: `2 x layers x kv_heads x head_dim x
//! 2 bytes` in BF16.
//!
//! Two parameter counts: all of them (`params_b`, what the weights weigh) and those that
//! multiply every token, the transformer blocks without the input embedding and the LM head
//! (Kaplan et al. 2020, "Scaling laws for neural language models", sec. 2.1: the
//! non-embedding N whose forward pass costs 2N FLOPs a token). The input embedding is a table
//! lookup, no multiplication; the LM head (vocabulary x hidden size, the embedding table itself
//! when the two are tied) is a matrix product, but only at the positions a token is sampled
//! from (vLLM computes logits only there: `LogitsProcessor` over the selected token indices),
//! so once per output token and not per prompt token. Untied (every model here):
//! non-embedding = all - 2 x vocabulary x hidden; tied: all - vocabulary x hidden.

/// One model from the catalogue.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct ModelSpec {
    /// Identifier used in scenario files (e.g. `llama-3.1-8b`).
    pub id: &'static str,
    /// Parameters, billions.
    pub params_b: f64,
    /// Transformer layers.
    pub layers: u32,
    /// Hidden size (d_model).
    pub hidden: u32,
    /// Attention (query) heads.
    pub heads: u32,
    /// Key-value heads (grouped-query attention).
    pub kv_heads: u32,
    /// Dimension of one attention head.
    pub head_dim: u32,
    /// Vocabulary size.
    pub vocab: u32,
    /// Whether the LM head is the input embedding table (`tie_word_embeddings`).
    pub tied_embeddings: bool,
    /// Context length, tokens.
    pub context_tokens: u32,
    /// Where the figures come from.
    pub source: &'static str,
}

impl ModelSpec {
    /// KV-cache bytes per token in BF16.
    pub fn kv_bytes_per_token(&self) -> f64 {
        self.kv_bytes_per_token_at(2.0)
    }

    /// KV-cache bytes per token at `bytes` an element (2 for BF16, 1 for FP8): a key and a
    /// value vector per layer and KV head.
    pub fn kv_bytes_per_token_at(&self, bytes: f64) -> f64 {
        2.0 * f64::from(self.layers) * f64::from(self.kv_heads) * f64::from(self.head_dim) * bytes
    }

    /// Parameters of the LM head, billions: vocabulary x hidden size.
    pub fn lm_head_params_b(&self) -> f64 {
        f64::from(self.vocab) * f64::from(self.hidden) / 1e9
    }

    /// Parameters of the transformer blocks, billions: all but the input embedding and the LM
    /// head (one matrix when tied, two when not).
    pub fn non_embedding_params_b(&self) -> f64 {
        let tables = if self.tied_embeddings { 1.0 } else { 2.0 };
        self.params_b - tables * self.lm_head_params_b()
    }

    /// Width of attention: query heads x head dimension (the inner dimension of QK^T and of
    /// the product with V).
    pub fn attention_dim(&self) -> u32 {
        self.heads * self.head_dim
    }
}

/// The catalogue.
pub const MODELS: &[ModelSpec] = &[
    ModelSpec {
        id: "llama-3-8b",
        params_b: 8.03,
        layers: 32,
        hidden: 4096,
        heads: 32,
        kv_heads: 8,
        head_dim: 128,
        vocab: 128_256,
        tied_embeddings: false,
        context_tokens: 8192,
        source: "meta-llama/Meta-Llama-3-8B config.json and model card",
    },
    ModelSpec {
        id: "llama-3.1-8b",
        params_b: 8.03,
        layers: 32,
        hidden: 4096,
        heads: 32,
        kv_heads: 8,
        head_dim: 128,
        vocab: 128_256,
        tied_embeddings: false,
        context_tokens: 131_072,
        source: "meta-llama/Llama-3.1-8B config.json and model card",
    },
    ModelSpec {
        id: "llama-3.2-1b",
        params_b: 1.236,
        layers: 16,
        hidden: 2048,
        heads: 32,
        kv_heads: 8,
        head_dim: 64,
        vocab: 128_256,
        tied_embeddings: true,
        context_tokens: 131_072,
        source: "meta-llama/Llama-3.2-1B config.json and model card (1,235,814,400 parameters)",
    },
    ModelSpec {
        id: "llama-3.2-3b",
        params_b: 3.213,
        layers: 28,
        hidden: 3072,
        heads: 24,
        kv_heads: 8,
        head_dim: 128,
        vocab: 128_256,
        tied_embeddings: true,
        context_tokens: 131_072,
        source: "meta-llama/Llama-3.2-3B config.json and model card (3,212,749,824 parameters)",
    },
    ModelSpec {
        id: "llama-2-70b",
        params_b: 68.98,
        layers: 80,
        hidden: 8192,
        heads: 64,
        kv_heads: 8,
        head_dim: 128,
        vocab: 32_000,
        tied_embeddings: false,
        context_tokens: 4096,
        source: "meta-llama/Llama-2-70b-hf config.json and model card (68,976,648,192 parameters)",
    },
    ModelSpec {
        id: "llama-3-70b",
        params_b: 70.6,
        layers: 80,
        hidden: 8192,
        heads: 64,
        kv_heads: 8,
        head_dim: 128,
        vocab: 128_256,
        tied_embeddings: false,
        context_tokens: 8192,
        source: "meta-llama/Meta-Llama-3-70B config.json and model card",
    },
    ModelSpec {
        id: "llama-3.1-70b",
        params_b: 70.6,
        layers: 80,
        hidden: 8192,
        heads: 64,
        kv_heads: 8,
        head_dim: 128,
        vocab: 128_256,
        tied_embeddings: false,
        context_tokens: 131_072,
        source: "meta-llama/Llama-3.1-70B config.json and model card",
    },
    ModelSpec {
        id: "llama-3.1-405b",
        params_b: 405.0,
        layers: 126,
        hidden: 16384,
        heads: 128,
        kv_heads: 8,
        head_dim: 128,
        vocab: 128_256,
        tied_embeddings: false,
        context_tokens: 131_072,
        source: "meta-llama/Llama-3.1-405B config.json and model card",
    },
    ModelSpec {
        id: "mistral-7b",
        params_b: 7.25,
        layers: 32,
        hidden: 4096,
        heads: 32,
        kv_heads: 8,
        head_dim: 128,
        vocab: 32_768,
        tied_embeddings: false,
        context_tokens: 32_768,
        source: "mistralai/Mistral-7B-v0.3 config.json and model card",
    },
    ModelSpec {
        id: "qwen2.5-7b",
        params_b: 7.61,
        layers: 28,
        hidden: 3584,
        heads: 28,
        kv_heads: 4,
        head_dim: 128,
        vocab: 152_064,
        tied_embeddings: false,
        context_tokens: 32_768,
        source: "Qwen/Qwen2.5-7B config.json and model card (without YaRN scaling)",
    },
    ModelSpec {
        id: "qwen2.5-72b",
        params_b: 72.7,
        layers: 80,
        hidden: 8192,
        heads: 64,
        kv_heads: 8,
        head_dim: 128,
        vocab: 152_064,
        tied_embeddings: false,
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
    fn non_embedding_counts_match_published_figures() {
        // Llama 3 8B by hand from config.json: a layer is q and o (4096 x 4096 each), k and v
        // (4096 x 1024 each), the MLP (3 x 4096 x 14336) and two norms (2 x 4096): 218,112,000;
        // 32 of them and the final norm make 6,979,588,096. The catalogue's 8.03B total less
        // the untied embedding and LM head (2 x 128,256 x 4096) is that within 0.01%.
        let m = find_model("llama-3-8b").expect("catalogued");
        let blocks = 32.0 * (2.0 * 4096.0 * 4096.0 + 2.0 * 4096.0 * 1024.0)
            + 32.0 * (3.0 * 4096.0 * 14336.0 + 2.0 * 4096.0)
            + 4096.0;
        assert_eq!(blocks, 6_979_588_096.0);
        assert!((m.non_embedding_params_b() * 1e9 / blocks - 1.0).abs() < 1e-4);
        assert_eq!(m.lm_head_params_b(), 128_256.0 * 4096.0 / 1e9);
        assert_eq!(m.attention_dim(), 4096);
        // Qwen2.5-7B's model card states its non-embedding count: 6.53B of 7.61B.
        let q7 = find_model("qwen2.5-7b").expect("catalogued");
        assert!((q7.non_embedding_params_b() - 6.53).abs() < 0.01);
        // A tied LM head is the embedding table: counted once in the total.
        let tied = ModelSpec {
            tied_embeddings: true,
            ..*m
        };
        assert_eq!(
            tied.non_embedding_params_b(),
            8.03 - 128_256.0 * 4096.0 / 1e9
        );
    }

    #[test]
    fn small_llama_counts_match_published_figures() {
        // Llama 3.2 1B by hand from config.json: a layer is q and o (2048 x 2048 each), k and v
        // (2048 x 512 each: 8 KV heads of 64), the MLP (3 x 2048 x 8192) and two norms; 16 of
        // them, the final norm and one embedding table (tied to the LM head: 128,256 x 2048)
        // make the model card's 1.23B, 1,235,814,400 exactly.
        let layer = |d: f64, kv: f64, ff: f64| 2.0 * d * d + 2.0 * d * kv + 3.0 * d * ff + 2.0 * d;
        let one_b = 16.0 * layer(2048.0, 512.0, 8192.0) + 2048.0 + 128_256.0 * 2048.0;
        assert_eq!(one_b, 1_235_814_400.0);
        let m = find_model("llama-3.2-1b").expect("catalogued");
        assert!((m.params_b * 1e9 / one_b - 1.0).abs() < 1e-3);
        // Tied: only the embedding table comes off the total, 128,256 x 2048.
        let blocks = one_b - 128_256.0 * 2048.0;
        assert!((m.non_embedding_params_b() * 1e9 / blocks - 1.0).abs() < 1e-3);
        // 16 layers x 8 KV heads x 64 x 2 (K and V) x 2 bytes = 32 KiB a token.
        assert_eq!(m.kv_bytes_per_token(), 32_768.0);
        // Llama 3.2 3B: 28 layers of d = 3072, k and v 3072 x 1024, MLP 3 x 3072 x 8192: the
        // model card's 3.21B, 3,212,749,824; 28 x 8 x 128 x 2 x 2 = 112 KiB a token.
        let three_b = 28.0 * layer(3072.0, 1024.0, 8192.0) + 3072.0 + 128_256.0 * 3072.0;
        assert_eq!(three_b, 3_212_749_824.0);
        let m = find_model("llama-3.2-3b").expect("catalogued");
        assert!((m.params_b * 1e9 / three_b - 1.0).abs() < 1e-3);
        assert_eq!(m.kv_bytes_per_token(), 114_688.0);
        assert_eq!(m.attention_dim(), 3072);
    }

    #[test]
    fn ids_are_unique() {
        for (i, m) in MODELS.iter().enumerate() {
            assert!(MODELS[..i].iter().all(|o| o.id != m.id), "{}", m.id);
            assert_eq!(find_model(m.id), Some(m));
        }
    }
}
