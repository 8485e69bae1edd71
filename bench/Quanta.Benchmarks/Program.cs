using BenchmarkDotNet.Running;

namespace Quanta.Benchmarks;

/// <summary>
/// Entry point: `dotnet run -c Release --project bench/Quanta.Benchmarks -- --filter '*MatVec*'`, or
/// `-- quick [Format ...]` for the fast 1-thread check of <see cref="QuickMatVec"/>, or `-- gemm [rows cols] [Format ...]`
/// for <see cref="QuickGemm"/> (MatMul against one Dot per row and token), or `-- gemmrate [rows cols] [Format ...]` for
/// <see cref="GemmRate"/> (MatMul's GOP/s at m = 16, 64, 512), or `-- smallm [hot|dram] [rounds] [cols ...]` for <see cref="QuickSmallM"/> (the few-token A/B), `-- ksmall [hot|dram] [rounds] [format:cols ...]` for <see cref="QuickKSmallM"/> (its K-quant twin), or `-- attention` for
/// <see cref="QuickAttention"/>.
/// </summary>
public static class Program
{
    public static void Main(string[] args)
    {
        if (args.Length > 0 && args[0] == "quick") QuickMatVec.Run(args[1..]);
        else if (args.Length > 0 && args[0] == "gemm") QuickGemm.Run(args[1..]);
        else if (args.Length > 0 && args[0] == "gemmrate") GemmRate.Run(args[1..]);
        else if (args.Length > 0 && args[0] == "smallm") QuickSmallM.Run(args[1..]);
        else if (args.Length > 0 && args[0] == "ksmall") QuickKSmallM.Run(args[1..]);
        else if (args.Length > 0 && args[0] == "attention") QuickAttention.Run(args[1..]);
        else BenchmarkSwitcher.FromAssembly(typeof(Program).Assembly).Run(args);
    }
}
