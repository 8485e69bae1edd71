using Quanta.Core.Formats;

namespace Quanta.Benchmarks;

/// <summary>The `[rows cols] [Format ...]` arguments of the quick GEMM modes, with each mode's defaults.</summary>
internal readonly record struct ShapeArgs(int Rows, int Cols, IReadOnlyList<WeightFormat> Formats)
{
    public static ShapeArgs Parse(string[] args, int rows, int cols, params WeightFormat[] formats)
    {
        int i = 0;
        if (args.Length >= 2 && int.TryParse(args[0], out int r) && int.TryParse(args[1], out int c)) { rows = r; cols = c; i = 2; }
        return new ShapeArgs(rows, cols, args.Length > i ? [.. args[i..].Select(n => Enum.Parse<WeightFormat>(n, ignoreCase: true))] : formats);
    }
}
