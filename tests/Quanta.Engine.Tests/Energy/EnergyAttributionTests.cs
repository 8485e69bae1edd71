using Quanta.Engine.Energy;

namespace Quanta.Engine.Tests.Energy;

public sealed class EnergyAttributionTests
{
    [Fact]
    public void Splits_by_token_share_by_hand()
    {
        double[] parts = new double[4];
        EnergyAttribution.Split(90, [1, 2, 0, 6], parts);
        Assert.Equal([10.0, 20.0, 0.0, 60.0], parts);
    }

    [Fact]
    public void Shares_sum_to_the_step_total_on_random_steps()
    {
        int seed = Random.Shared.Next();
        var rng = new Random(seed);
        for (int trial = 0; trial < 500; trial++)
        {
            int n = rng.Next(1, 300);
            int[] tokens = new int[n];
            for (int i = 0; i < n; i++) tokens[i] = rng.Next(0, 3) == 0 ? 1 : rng.Next(0, 2048);
            tokens[rng.Next(n)] = 1 + rng.Next(100);    // at least one positive
            double total = rng.NextDouble() * 5000;
            double[] parts = new double[n];
            EnergyAttribution.Split(total, tokens, parts);
            double sum = 0;
            long tokenSum = 0;
            foreach (int t in tokens) tokenSum += t;
            for (int i = 0; i < n; i++)
            {
                sum += parts[i];
                Assert.True(parts[i] >= -1e-9, $"seed {seed}: negative share");
                Assert.True(Math.Abs(parts[i] - total * tokens[i] / tokenSum) <= 1e-9 * Math.Max(1, total), $"seed {seed}: share {i} not proportional");
            }
            Assert.True(Math.Abs(sum - total) <= 1e-12 * Math.Max(1, total), $"seed {seed}: sum {sum} != {total}");
        }
    }

    [Fact]
    public void A_step_without_tokens_attributes_nothing()
    {
        double[] parts = [7, 7];
        EnergyAttribution.Split(12, [0, 0], parts);
        Assert.Equal([0.0, 0.0], parts);
    }
}
