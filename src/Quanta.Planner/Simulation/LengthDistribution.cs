using System.Globalization;

namespace Quanta.Planner.Simulation;

/// <summary>
/// Distribution of a request's prompt or output length in tokens: fixed, uniform on [min, max], or log-normal with a
/// given mean and coefficient of variation (the right-skewed shape of real chat and code datasets), clipped to
/// [min, max]. <see cref="Parse"/> reads "1500", "uniform:100-2000" or "lognormal:1500:0.8[:max]".
/// </summary>
public abstract record LengthDistribution
{
    /// <summary>Largest length this distribution yields.</summary>
    public abstract int Max { get; }

    /// <summary>Mean length (for a clipped log-normal, the mean before clipping).</summary>
    public abstract double Mean { get; }

    /// <summary>Draws one length (≥ 1).</summary>
    public abstract int Sample(Random rng);

    /// <summary>Always <see cref="Tokens"/>.</summary>
    public sealed record Fixed(int Tokens) : LengthDistribution
    {
        /// <inheritdoc/>
        public override int Max => Tokens;
        /// <inheritdoc/>
        public override double Mean => Tokens;
        /// <inheritdoc/>
        public override int Sample(Random rng) => Tokens;
        /// <inheritdoc/>
        public override string ToString() => Tokens.ToString(CultureInfo.InvariantCulture);
    }

    /// <summary>Uniform integers on [<see cref="Min"/>, <see cref="MaxTokens"/>].</summary>
    public sealed record Uniform(int Min, int MaxTokens) : LengthDistribution
    {
        /// <inheritdoc/>
        public override int Max => MaxTokens;
        /// <inheritdoc/>
        public override double Mean => (Min + MaxTokens) / 2.0;
        /// <inheritdoc/>
        public override int Sample(Random rng) => rng.Next(Min, MaxTokens + 1);
        /// <inheritdoc/>
        public override string ToString() => string.Create(CultureInfo.InvariantCulture, $"uniform:{Min}-{MaxTokens}");
    }

    /// <summary>Log-normal with mean <see cref="MeanTokens"/> and coefficient of variation <see cref="Cv"/>, rounded and clipped to [1, <see cref="MaxTokens"/>].</summary>
    public sealed record LogNormal(double MeanTokens, double Cv, int MaxTokens) : LengthDistribution
    {
        private double Sigma => Math.Sqrt(Math.Log(1 + Cv * Cv));
        private double Mu => Math.Log(MeanTokens) - Sigma * Sigma / 2;
        /// <inheritdoc/>
        public override int Max => MaxTokens;
        /// <inheritdoc/>
        public override double Mean => MeanTokens;
        /// <inheritdoc/>
        public override int Sample(Random rng) => (int)Math.Clamp(Math.Round(Math.Exp(Mu + Sigma * RandomVariates.Normal(rng))), 1, MaxTokens);
        /// <inheritdoc/>
        public override string ToString() => string.Create(CultureInfo.InvariantCulture, $"lognormal:{MeanTokens}:{Cv}:{MaxTokens}");
    }

    /// <summary>Parses "N", "uniform:A-B" or "lognormal:MEAN:CV[:MAX]" (MAX defaults to 4 x MEAN).</summary>
    /// <exception cref="ArgumentException">Malformed text or a non-positive length.</exception>
    public static LengthDistribution Parse(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        string t = text.Trim().ToLowerInvariant();
        var inv = CultureInfo.InvariantCulture;
        try
        {
            if (t.StartsWith("uniform:", StringComparison.Ordinal))
            {
                string[] p = t["uniform:".Length..].Split('-');
                if (p.Length != 2) throw new FormatException();
                int a = int.Parse(p[0], inv), b = int.Parse(p[1], inv);
                if (a < 1 || b < a) throw new ArgumentException($"length distribution '{text}': need 1 <= min <= max");
                return new Uniform(a, b);
            }
            if (t.StartsWith("lognormal:", StringComparison.Ordinal))
            {
                string[] p = t["lognormal:".Length..].Split(':');
                if (p.Length is < 2 or > 3) throw new FormatException();
                double mean = double.Parse(p[0], inv), cv = double.Parse(p[1], inv);
                int max = p.Length == 3 ? int.Parse(p[2], inv) : (int)Math.Ceiling(4 * mean);
                if (!(mean >= 1) || !(cv > 0) || max < mean) throw new ArgumentException($"length distribution '{text}': need mean >= 1, cv > 0 and max >= mean");
                return new LogNormal(mean, cv, max);
            }
            int n = int.Parse(t, inv);
            if (n < 1) throw new ArgumentException($"length '{text}' must be at least 1 token");
            return new Fixed(n);
        }
        catch (Exception e) when (e is FormatException or OverflowException)
        {
            throw new ArgumentException($"length distribution '{text}': expected N, uniform:MIN-MAX or lognormal:MEAN:CV[:MAX]", e);
        }
    }
}
