using BenchmarkDotNet.Running;

namespace Quanta.Benchmarks;

/// <summary>Entry point: `dotnet run -c Release --project bench/Quanta.Benchmarks -- --filter '*MatVec*'`.</summary>
public static class Program
{
    public static void Main(string[] args) => BenchmarkSwitcher.FromAssembly(typeof(Program).Assembly).Run(args);
}
