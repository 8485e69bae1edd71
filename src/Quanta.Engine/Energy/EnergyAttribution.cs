namespace Quanta.Engine.Energy;

/// <summary>
/// Splits a step's total (energy in joules, or cost in dollars) across the sequences in the step by their token share:
/// share i = total × tokens[i] / Σ tokens. The last positive share takes the remainder so the shares add up to the total
/// (up to one rounding of the final addition). A step with no tokens attributes nothing.
/// </summary>
public static class EnergyAttribution
{
    /// <summary>Writes the share of <paramref name="total"/> of each entry of <paramref name="tokens"/> into <paramref name="shares"/>.</summary>
    /// <param name="total">The amount to split (≥ 0).</param>
    /// <param name="tokens">[n] tokens each sequence ran in the step (≥ 0).</param>
    /// <param name="shares">[n] output.</param>
    public static void Split(double total, ReadOnlySpan<int> tokens, Span<double> shares)
    {
        if (shares.Length < tokens.Length) throw new ArgumentException("shares is shorter than tokens", nameof(shares));
        long sum = 0;
        int last = -1;
        for (int i = 0; i < tokens.Length; i++)
        {
            if (tokens[i] < 0) throw new ArgumentOutOfRangeException(nameof(tokens), $"tokens[{i}] = {tokens[i]} is negative");
            sum += tokens[i];
            if (tokens[i] > 0) last = i;
        }
        if (sum == 0)
        {
            shares[..tokens.Length].Clear();
            return;
        }
        double given = 0;
        for (int i = 0; i < tokens.Length; i++)
        {
            if (i == last) continue;
            double s = total * tokens[i] / sum;
            shares[i] = s;
            given += s;
        }
        shares[last] = total - given;
    }
}
