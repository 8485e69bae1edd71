namespace Quanta.Engine.Sampling;

/// <summary>
/// Partial selections over candidates in the strict order of <see cref="Candidate.Better"/> (key descending, id
/// ascending), without sorting the whole set: quickselect (nth_element style) partitions around a median-of-three
/// pivot and continues only into the side that holds the boundary, expected O(n).
/// </summary>
internal static class CandidateSelection
{
    private const int SmallRange = 16;

    /// <summary>
    /// Rearranges <paramref name="c"/> so that its first <paramref name="k"/> entries are the k best (in no
    /// particular order). Returns min(k, c.Length).
    /// </summary>
    public static int SelectTopK(Span<Candidate> c, int k)
    {
        if (k >= c.Length) return c.Length;
        if (k <= 0) return 0;
        int lo = 0, hi = c.Length; // the k-th boundary lies in [lo, hi)
        while (hi - lo > SmallRange)
        {
            int p = Partition(c, lo, hi);
            if (p == k || p == k - 1) return k;
            if (p > k) hi = p;
            else lo = p + 1;
        }
        InsertionSort(c[lo..hi]);
        return k;
    }

    /// <summary>
    /// The smallest best-first prefix whose <see cref="Candidate.Weight"/> sum reaches <paramref name="need"/>
    /// (llama.cpp / nucleus rule: the token that crosses the mass is kept). Rearranges <paramref name="c"/> so
    /// that prefix comes first and returns its length (at least 1 when c is not empty). When rounding leaves the
    /// total below <paramref name="need"/>, every candidate is kept.
    /// </summary>
    public static int SelectByMass(Span<Candidate> c, double need)
    {
        if (c.Length == 0) return 0;
        int lo = 0, hi = c.Length; // everything before lo is kept; the boundary lies in [lo, hi)
        while (hi - lo > SmallRange)
        {
            int p = Partition(c, lo, hi);
            double upper = 0;
            for (int i = lo; i < p; i++) upper += c[i].Weight;
            if (upper >= need && p > lo)
            {
                hi = p;
                continue;
            }
            need -= upper;
            if (c[p].Weight >= need) return p + 1;
            need -= c[p].Weight;
            lo = p + 1;
        }
        InsertionSort(c[lo..hi]);
        for (int i = lo; i < hi; i++)
        {
            need -= c[i].Weight;
            if (need <= 0) return i + 1;
        }
        return hi == lo ? Math.Max(lo, 1) : hi;
    }

    /// <summary>
    /// Lomuto-style partition of [lo, hi) around a median-of-three pivot: on return, [lo, p) are better than
    /// c[p] and (p, hi) are worse. Returns p.
    /// </summary>
    private static int Partition(Span<Candidate> c, int lo, int hi)
    {
        int mid = lo + ((hi - lo) >> 1);
        int last = hi - 1;
        // Median of three (by the candidate order) moved to the end as the pivot.
        if (Candidate.Better(c[mid], c[lo])) Swap(c, mid, lo);
        if (Candidate.Better(c[last], c[lo])) Swap(c, last, lo);
        if (Candidate.Better(c[mid], c[last])) Swap(c, mid, last);
        // Now c[lo] is best of the three, c[last] the median, c[mid] the worst.
        var pivot = c[last];
        int store = lo;
        for (int i = lo; i < last; i++)
        {
            if (Candidate.Better(c[i], pivot))
            {
                if (i != store) Swap(c, i, store);
                store++;
            }
        }
        Swap(c, store, last);
        return store;
    }

    private static void Swap(Span<Candidate> c, int a, int b) => (c[a], c[b]) = (c[b], c[a]);

    private static void InsertionSort(Span<Candidate> c) => TopNHeap.SortDescending(c);
}
