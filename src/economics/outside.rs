//! The outside market an exogenous price is quoted on, when the scenario states its depth
//! (`token.market_depth_usd`): the [`Book`] the network's purchases walk up within a token
//! epoch.
//!
//! The book is a constant-product curve without fee that holds D USD and D / p tokens at the
//! path's price p when the epoch opens. X USD buy D X / (p (D + X)) tokens, at p (1 + X / D)
//! each on average, and leave the price at p (1 + X / D)^2; q tokens cost D q / (D / p - q).
//! Trades follow these formulas directly rather than as differences of reserves, so that a
//! purchase far smaller than the depth keeps its precision.

/// The book of an outside market during one token epoch.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Book {
    tokens: f64,
    usd: f64,
}

impl Book {
    /// The book opened at `price_usd` with `depth_usd` of depth; None unless both are
    /// positive and finite and so are the tokens it holds.
    pub fn open(price_usd: f64, depth_usd: f64) -> Option<Self> {
        let tokens = depth_usd / price_usd;
        let fine = |x: f64| x.is_finite() && x > 0.0;
        (fine(price_usd) && fine(depth_usd) && fine(tokens)).then_some(Self {
            tokens,
            usd: depth_usd,
        })
    }

    /// The price now, USD per token.
    pub fn price(&self) -> f64 {
        self.usd / self.tokens
    }

    /// The tokens the book holds.
    pub fn tokens(&self) -> f64 {
        self.tokens
    }

    /// The USD side of the book: the depth, at the price now.
    pub fn depth(&self) -> f64 {
        self.usd
    }

    /// The tokens `usd` USD (zero or more) would buy.
    pub fn tokens_for(&self, usd: f64) -> f64 {
        self.tokens * usd / (self.usd + usd)
    }

    /// Buys with `usd` USD (zero or more); returns the tokens bought.
    pub fn buy_with_usd(&mut self, usd: f64) -> f64 {
        let tokens = self.tokens_for(usd);
        self.tokens -= tokens;
        self.usd += usd;
        tokens
    }

    /// Buys `tokens` tokens (zero or more, fewer than the book holds); returns their cost,
    /// USD.
    pub fn buy_tokens(&mut self, tokens: f64) -> f64 {
        let usd = self.usd * tokens / (self.tokens - tokens);
        self.tokens -= tokens;
        self.usd += usd;
        usd
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn purchases_walk_up_the_book_by_its_law() {
        // D = 1,000 USD at 2 USD: 500 tokens. 100 USD buy 500 x 100 / 1,100 = 45.45 tokens,
        // at 2.2 each, and leave 1,100 / 454.55 = 2.42.
        let mut b = Book::open(2.0, 1000.0).expect("a book");
        assert_eq!(b.tokens(), 500.0);
        let t = b.buy_with_usd(100.0);
        assert!((t - 500.0 / 11.0).abs() < 1e-12);
        assert!((100.0 / t - 2.2).abs() < 1e-12);
        assert!((b.price() - 2.42).abs() < 1e-12);
        // Then 10 tokens cost 1,100 x 10 / (5,000 / 11 - 10).
        let usd = b.buy_tokens(10.0);
        assert!((usd - 1100.0 * 10.0 / (5000.0 / 11.0 - 10.0)).abs() < 1e-12);
        // A dollar against a depth of 4e8 keeps its precision.
        let mut deep = Book::open(1.0, 4e8).expect("a book");
        let t = deep.buy_with_usd(1.0);
        assert!((t - 4e8 / (4e8 + 1.0)).abs() < 1e-15);
        assert_eq!(Book::open(0.0, 1.0), None);
        assert_eq!(Book::open(1e-300, 1e300), None);
    }
}
