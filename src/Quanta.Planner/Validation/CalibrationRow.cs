using System.Globalization;

namespace Quanta.Planner.Validation;

/// <summary>One measured result in the calibration.csv format (columns by name; extra columns are ignored).</summary>
public sealed class CalibrationRow
{
    /// <summary>Columns a calibration file must have.</summary>
    public static readonly IReadOnlyList<string> RequiredColumns =
        ["id", "accelerator", "num_accelerators", "benchmark_model", "scenario", "metric", "value_system", "value_per_accelerator"];

    private readonly Dictionary<string, string> _fields;

    private CalibrationRow(Dictionary<string, string> fields, int line) { _fields = fields; Line = line; }

    /// <summary>Line of the file the row starts on.</summary>
    public int Line { get; }

    /// <summary>The value of column <paramref name="name"/> ("" when absent).</summary>
    public string this[string name] => _fields.TryGetValue(name, out string? v) ? v : "";

    /// <summary>Row id.</summary>
    public string Id => this["id"];

    /// <summary>Leading number of a field ("41.1075 samples/s" -> 41.1075), or null.</summary>
    public double? Number(string name)
    {
        string s = this[name].Trim();
        int n = 0;
        while (n < s.Length && (char.IsDigit(s[n]) || s[n] is '.' or '-' or '+' or 'e' or 'E')) n++;
        return n > 0 && double.TryParse(s.AsSpan(0, n), NumberStyles.Float, CultureInfo.InvariantCulture, out double v) ? v : null;
    }

    /// <summary>Reads calibration rows from a CSV file.</summary>
    /// <exception cref="InvalidDataException">Malformed CSV, a missing required column, or a row without id.</exception>
    public static IReadOnlyList<CalibrationRow> Load(string path) => FromTable(CsvTable.Load(path), path);

    /// <summary>Calibration rows from a parsed table.</summary>
    public static IReadOnlyList<CalibrationRow> FromTable(CsvTable t, string origin)
    {
        var missing = RequiredColumns.Where(c => !t.Header.Contains(c, StringComparer.Ordinal)).ToList();
        if (missing.Count > 0) throw new InvalidDataException($"{origin}: not a calibration file: missing column(s) {string.Join(", ", missing)}");
        var rows = new List<CalibrationRow>();
        for (int r = 0; r < t.Rows.Count; r++)
        {
            var d = new Dictionary<string, string>(StringComparer.Ordinal);
            for (int c = 0; c < t.Header.Count; c++) d[t.Header[c]] = t.Rows[r][c];
            var row = new CalibrationRow(d, t.Lines[r]);
            if (string.IsNullOrWhiteSpace(row.Id)) throw new InvalidDataException($"{origin}: line {t.Lines[r]}: empty id");
            rows.Add(row);
        }
        return rows;
    }
}
