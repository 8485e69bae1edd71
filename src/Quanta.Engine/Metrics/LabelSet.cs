using System.Globalization;

namespace Quanta.Engine.Metrics;

/// <summary>
/// Up to <see cref="MaxLabels"/> label name/value pairs sorted by name (ordinal): the key of one time series. Built from a
/// measurement's tag span without allocating when the tag values are strings (other values are formatted with the
/// invariant culture, which allocates).
/// </summary>
internal readonly struct LabelSet : IEquatable<LabelSet>, IComparable<LabelSet>
{
    public const int MaxLabels = 4;

    private readonly string? _n0, _v0, _n1, _v1, _n2, _v2, _n3, _v3;

    private LabelSet(int count, string? n0, string? v0, string? n1, string? v1, string? n2, string? v2, string? n3, string? v3)
    {
        Count = count;
        (_n0, _v0, _n1, _v1, _n2, _v2, _n3, _v3) = (n0, v0, n1, v1, n2, v2, n3, v3);
    }

    public int Count { get; }

    public string Name(int i) => i switch { 0 => _n0!, 1 => _n1!, 2 => _n2!, 3 => _n3!, _ => throw new ArgumentOutOfRangeException(nameof(i)) };

    public string Value(int i) => i switch { 0 => _v0!, 1 => _v1!, 2 => _v2!, 3 => _v3!, _ => throw new ArgumentOutOfRangeException(nameof(i)) };

    /// <summary>False when there are more than <see cref="MaxLabels"/> tags or a tag name repeats.</summary>
    public static bool TryCreate(ReadOnlySpan<KeyValuePair<string, object?>> tags, out LabelSet set)
    {
        set = default;
        if (tags.Length > MaxLabels) return false;
        Span<int> order = stackalloc int[MaxLabels];
        for (int i = 0; i < tags.Length; i++)
        {
            // insertion sort of tag indices by name
            int j = i;
            while (j > 0 && string.CompareOrdinal(tags[order[j - 1]].Key, tags[i].Key) > 0)
            {
                order[j] = order[j - 1];
                j--;
            }
            order[j] = i;
        }
        for (int i = 1; i < tags.Length; i++)
        {
            if (string.Equals(tags[order[i - 1]].Key, tags[order[i]].Key, StringComparison.Ordinal)) return false;
        }
        Span<string?> n = [null, null, null, null];
        Span<string?> v = [null, null, null, null];
        for (int i = 0; i < tags.Length; i++)
        {
            n[i] = tags[order[i]].Key;
            v[i] = Text(tags[order[i]].Value);
        }
        set = new LabelSet(tags.Length, n[0], v[0], n[1], v[1], n[2], v[2], n[3], v[3]);
        return true;
    }

    private static string Text(object? value) => value switch
    {
        null => "",
        string s => s,
        bool b => b ? "true" : "false",
        IFormattable f => f.ToString(null, CultureInfo.InvariantCulture),
        _ => value.ToString() ?? "",
    };

    public bool Equals(LabelSet other) =>
        Count == other.Count
        && string.Equals(_n0, other._n0, StringComparison.Ordinal) && string.Equals(_v0, other._v0, StringComparison.Ordinal)
        && string.Equals(_n1, other._n1, StringComparison.Ordinal) && string.Equals(_v1, other._v1, StringComparison.Ordinal)
        && string.Equals(_n2, other._n2, StringComparison.Ordinal) && string.Equals(_v2, other._v2, StringComparison.Ordinal)
        && string.Equals(_n3, other._n3, StringComparison.Ordinal) && string.Equals(_v3, other._v3, StringComparison.Ordinal);

    public override bool Equals(object? obj) => obj is LabelSet other && Equals(other);

    public override int GetHashCode() =>
        HashCode.Combine(Count, Hash(_n0), Hash(_v0), Hash(_n1), Hash(_v1), Hash(_n2), Hash(_v2), HashCode.Combine(Hash(_n3), Hash(_v3)));

    private static int Hash(string? s) => s is null ? 0 : string.GetHashCode(s, StringComparison.Ordinal);

    /// <summary>Orders by label names then values, pairwise (ordinal): the exposition order of series.</summary>
    public int CompareTo(LabelSet other)
    {
        int n = Math.Min(Count, other.Count);
        for (int i = 0; i < n; i++)
        {
            int c = string.CompareOrdinal(Name(i), other.Name(i));
            if (c != 0) return c;
            c = string.CompareOrdinal(Value(i), other.Value(i));
            if (c != 0) return c;
        }
        return Count.CompareTo(other.Count);
    }
}
