extension Duration {
    /// The duration in seconds, as a floating-point number (for rates and printing).
    public var seconds: Double {
        let (whole, fraction) = components
        return Double(whole) + Double(fraction) / 1e18
    }

    /// Nanoseconds, rounded toward zero (for clock arithmetic on `MediaClock` time).
    public var nanoseconds: Int64 {
        let (whole, fraction) = components
        return whole * 1_000_000_000 + fraction / 1_000_000_000
    }
}
