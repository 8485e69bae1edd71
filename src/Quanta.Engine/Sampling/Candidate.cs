using System.Runtime.InteropServices;

namespace Quanta.Engine.Sampling;

/// <summary>
/// One token still in the running during truncation (top-k, typical, top-p, min-p).
/// <see cref="Key"/> orders candidates (higher first, ties: lower <see cref="Id"/> first); it equals
/// <see cref="Logit"/> except while typical sampling ranks by closeness to the entropy.
/// <see cref="Weight"/> is the unnormalized probability a mass-based selection sums.
/// </summary>
[StructLayout(LayoutKind.Sequential)]
internal struct Candidate
{
    public float Key;
    public int Id;
    public float Logit;
    public float Weight;

    public Candidate(int id, float logit)
    {
        Key = logit;
        Id = id;
        Logit = logit;
        Weight = 0f;
    }

    /// <summary>Strict total order used by every selection: larger key first, then lower id.</summary>
    public static bool Better(in Candidate a, in Candidate b) => a.Key > b.Key || (a.Key == b.Key && a.Id < b.Id);
}
