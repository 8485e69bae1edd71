using System.Globalization;

namespace Quanta.Planner.Fleet;

/// <summary>Parsers for the planner's command-line values: durations, rates, fractions and price overrides.</summary>
public static class PlanArguments
{
    private static readonly CultureInfo Inv = CultureInfo.InvariantCulture;

    /// <summary>Seconds from "180ms", "0.18s", "500us", "2min" or a bare number of seconds.</summary>
    /// <exception cref="ArgumentException">Malformed or non-positive.</exception>
    public static double Duration(string text, string option)
    {
        ArgumentNullException.ThrowIfNull(text);
        string t = text.Trim().ToLowerInvariant();
        (string num, double scale) = t.EndsWith("ms", StringComparison.Ordinal) ? (t[..^2], 1e-3)
            : t.EndsWith("us", StringComparison.Ordinal) ? (t[..^2], 1e-6)
            : t.EndsWith("min", StringComparison.Ordinal) ? (t[..^3], 60.0)
            : t.EndsWith('s') ? (t[..^1], 1.0)
            : (t, 1.0);
        if (!double.TryParse(num, NumberStyles.Float, Inv, out double v) || !(v > 0) || double.IsInfinity(v))
            throw new ArgumentException($"{option} '{text}': expected a positive duration such as 180ms, 0.5s or 2");
        return v * scale;
    }

    /// <summary>A positive number, exponent notation allowed ("15e6", "1,000" is not).</summary>
    public static double Positive(string text, string option)
    {
        ArgumentNullException.ThrowIfNull(text);
        if (!double.TryParse(text.Trim(), NumberStyles.Float, Inv, out double v) || !(v > 0) || double.IsInfinity(v))
            throw new ArgumentException($"{option} '{text}': expected a positive number (e.g. 15e6)");
        return v;
    }

    /// <summary>A fraction in (0, 1] from "0.8" or "80%".</summary>
    public static double Fraction(string text, string option)
    {
        ArgumentNullException.ThrowIfNull(text);
        string t = text.Trim();
        bool pct = t.EndsWith('%');
        if (!double.TryParse(pct ? t[..^1] : t, NumberStyles.Float, Inv, out double v))
            throw new ArgumentException($"{option} '{text}': expected a fraction such as 0.8 or 80%");
        if (pct) v /= 100;
        if (!(v > 0 && v <= 1)) throw new ArgumentException($"{option} '{text}': must lie in (0, 1] (or (0%, 100%])");
        return v;
    }

    /// <summary>Price overrides from "ID=USD" items (USD per device-hour).</summary>
    public static Dictionary<string, double> Prices(IEnumerable<string> items)
    {
        ArgumentNullException.ThrowIfNull(items);
        var d = new Dictionary<string, double>(StringComparer.OrdinalIgnoreCase);
        foreach (string item in items)
        {
            int eq = item.IndexOf('=', StringComparison.Ordinal);
            if (eq <= 0 || eq == item.Length - 1) throw new ArgumentException($"--price '{item}': expected DEVICE=USD_PER_HOUR, e.g. h100-sxm=2.5");
            d[item[..eq].Trim()] = Positive(item[(eq + 1)..].TrimStart('$'), "--price");
        }
        return d;
    }
}
