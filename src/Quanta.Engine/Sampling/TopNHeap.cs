using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;

namespace Quanta.Engine.Sampling;

/// <summary>
/// The <c>k</c> largest entries of x (ties: lower index wins) with a binary min-heap of size k, for small k
/// (top-k sampling with small k, top_logprobs ≤ 20). After the heap fills, a whole vector is skipped when no lane
/// beats the heap's worst entry, so the cost is about one vectorized read of x plus O(k·log k·log(n/k)) heap work
/// for typical data. Output: heap[0..min(k, n)) holds the winners in heap order (use <see cref="SortDescending"/>).
/// NaN is never admitted once the heap is full. SIMD and scalar give the same set.
/// </summary>
internal static class TopNHeap
{
    /// <summary>SIMD dispatch: Vector512 → Vector256 → Vector128 → scalar. Returns min(k, n).</summary>
    public static int Select(ReadOnlySpan<float> x, int k, Span<Candidate> heap)
    {
        int n = x.Length;
        int count = Fill(x, k, heap);
        if (count < k) return count;
        ref float xs = ref MemoryMarshal.GetReference(x);
        int i = count;
        if (Vector512.IsHardwareAccelerated)
        {
            for (; i <= n - 16; i += 16)
            {
                if (!Vector512.GreaterThanAny(Vector512.LoadUnsafe(ref xs, (nuint)i), Vector512.Create(heap[0].Key))) continue;
                for (int j = i; j < i + 16; j++) Offer(heap, k, j, x[j]);
            }
        }
        if (Vector256.IsHardwareAccelerated)
        {
            for (; i <= n - 8; i += 8)
            {
                if (!Vector256.GreaterThanAny(Vector256.LoadUnsafe(ref xs, (nuint)i), Vector256.Create(heap[0].Key))) continue;
                for (int j = i; j < i + 8; j++) Offer(heap, k, j, x[j]);
            }
        }
        if (Vector128.IsHardwareAccelerated)
        {
            for (; i <= n - 4; i += 4)
            {
                if (!Vector128.GreaterThanAny(Vector128.LoadUnsafe(ref xs, (nuint)i), Vector128.Create(heap[0].Key))) continue;
                for (int j = i; j < i + 4; j++) Offer(heap, k, j, x[j]);
            }
        }
        for (; i < n; i++) Offer(heap, k, i, x[i]);
        return k;
    }

    /// <summary>Scalar reference: every element offered in turn.</summary>
    public static int SelectReference(ReadOnlySpan<float> x, int k, Span<Candidate> heap)
    {
        int count = Fill(x, k, heap);
        for (int i = count; i < x.Length; i++) Offer(heap, k, i, x[i]);
        return count;
    }

    /// <summary>Sorts candidates best first (key descending, then id ascending); insertion sort, for small spans.</summary>
    public static void SortDescending(Span<Candidate> c)
    {
        for (int i = 1; i < c.Length; i++)
        {
            var v = c[i];
            int j = i - 1;
            while (j >= 0 && Candidate.Better(v, c[j])) { c[j + 1] = c[j]; j--; }
            c[j + 1] = v;
        }
    }

    private static int Fill(ReadOnlySpan<float> x, int k, Span<Candidate> heap)
    {
        if (k < 0 || heap.Length < Math.Min(k, x.Length)) throw new ArgumentException("Heap buffer is too short.", nameof(heap));
        int count = Math.Min(k, x.Length);
        for (int i = 0; i < count; i++)
        {
            heap[i] = new Candidate(i, x[i]);
            SiftUp(heap, i);
        }
        return count;
    }

    // Indices arrive in increasing order, so a later equal value is worse: strict > is the exact admission test.
    private static void Offer(Span<Candidate> heap, int k, int id, float value)
    {
        if (!(value > heap[0].Key)) return;
        heap[0] = new Candidate(id, value);
        SiftDown(heap, k);
    }

    // Min-heap on the candidate order: the root is the worst kept entry.
    private static void SiftUp(Span<Candidate> h, int i)
    {
        var v = h[i];
        while (i > 0)
        {
            int p = (i - 1) >> 1;
            if (!Candidate.Better(h[p], v)) break;
            h[i] = h[p];
            i = p;
        }
        h[i] = v;
    }

    private static void SiftDown(Span<Candidate> h, int count)
    {
        var v = h[0];
        int i = 0;
        while (true)
        {
            int c = 2 * i + 1;
            if (c >= count) break;
            if (c + 1 < count && Candidate.Better(h[c], h[c + 1])) c++;
            if (!Candidate.Better(v, h[c])) break;
            h[i] = h[c];
            i = c;
        }
        h[i] = v;
    }
}
