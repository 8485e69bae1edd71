namespace Quanta.Planner.Simulation;

/// <summary>Samplers for the distributions the workload generators need (all driven by a seeded <see cref="Random"/>).</summary>
public static class RandomVariates
{
    /// <summary>Uniform on (0, 1): never exactly 0, so logarithms stay finite.</summary>
    public static double Open01(Random rng)
    {
        ArgumentNullException.ThrowIfNull(rng);
        double u;
        do u = rng.NextDouble(); while (u <= 0);
        return u;
    }

    /// <summary>Exponential with mean <paramref name="mean"/>.</summary>
    public static double Exponential(Random rng, double mean) => -mean * Math.Log(Open01(rng));

    /// <summary>Standard normal (Box-Muller, one of the pair).</summary>
    public static double Normal(Random rng) => Math.Sqrt(-2 * Math.Log(Open01(rng))) * Math.Cos(2 * Math.PI * Open01(rng));

    /// <summary>Gamma with shape <paramref name="shape"/> and scale 1 (Marsaglia and Tsang 2000; shape &lt; 1 by boosting).</summary>
    public static double Gamma(Random rng, double shape)
    {
        if (!(shape > 0)) throw new ArgumentOutOfRangeException(nameof(shape), shape, "gamma shape must be positive");
        if (shape < 1) return Gamma(rng, shape + 1) * Math.Pow(Open01(rng), 1 / shape);
        double d = shape - 1.0 / 3, c = 1 / Math.Sqrt(9 * d);
        while (true)
        {
            double x, v;
            do { x = Normal(rng); v = 1 + c * x; } while (v <= 0);
            v = v * v * v;
            double u = Open01(rng);
            if (u < 1 - 0.0331 * x * x * x * x || Math.Log(u) < 0.5 * x * x + d * (1 - v + Math.Log(v))) return d * v;
        }
    }
}
