using System.Text;

namespace Quanta.Planner.Validation;

/// <summary>
/// A CSV document (RFC 4180: comma-separated, fields optionally in double quotes with "" for a quote, line breaks
/// allowed inside quotes) read into a header and rows of the same width.
/// </summary>
public sealed class CsvTable
{
    private CsvTable(IReadOnlyList<string> header, IReadOnlyList<IReadOnlyList<string>> rows, IReadOnlyList<int> lines)
    {
        Header = header; Rows = rows; Lines = lines;
    }

    /// <summary>Column names.</summary>
    public IReadOnlyList<string> Header { get; }

    /// <summary>Data rows, each as wide as the header.</summary>
    public IReadOnlyList<IReadOnlyList<string>> Rows { get; }

    /// <summary>The 1-based line each data row starts on.</summary>
    public IReadOnlyList<int> Lines { get; }

    /// <summary>Reads the CSV file at <paramref name="path"/>.</summary>
    public static CsvTable Load(string path)
    {
        if (!File.Exists(path)) throw new FileNotFoundException($"file not found: {path}", path);
        return Parse(File.ReadAllText(path), path);
    }

    /// <summary>Parses CSV text; <paramref name="origin"/> names it in errors.</summary>
    /// <exception cref="InvalidDataException">Empty input, an unterminated quote, a stray quote, or a row whose width differs from the header's.</exception>
    public static CsvTable Parse(string text, string origin)
    {
        var records = new List<(List<string> Fields, int Line)>();
        var fields = new List<string>();
        var sb = new StringBuilder();
        int line = 1, recordLine = 1, i = 0;
        bool inQuotes = false, quoted = false;
        while (i < text.Length)
        {
            char c = text[i];
            if (inQuotes)
            {
                if (c == '"')
                {
                    if (i + 1 < text.Length && text[i + 1] == '"') { sb.Append('"'); i += 2; continue; }
                    inQuotes = false; i++; continue;
                }
                if (c == '\n') line++;
                sb.Append(c); i++; continue;
            }
            switch (c)
            {
                case '"' when sb.Length == 0 && !quoted:
                    inQuotes = true; quoted = true; i++; break;
                case '"':
                    throw new InvalidDataException($"{origin}: line {line}: stray quote inside an unquoted field");
                case ',':
                    fields.Add(sb.ToString()); sb.Clear(); quoted = false; i++; break;
                case '\r':
                    i++; break;
                case '\n':
                    fields.Add(sb.ToString()); sb.Clear(); quoted = false;
                    if (!(fields.Count == 1 && fields[0].Length == 0)) records.Add((fields, recordLine));
                    fields = []; line++; recordLine = line; i++; break;
                default:
                    if (quoted) throw new InvalidDataException($"{origin}: line {line}: text after a closing quote");
                    sb.Append(c); i++; break;
            }
        }
        if (inQuotes) throw new InvalidDataException($"{origin}: line {recordLine}: unterminated quoted field");
        if (sb.Length > 0 || fields.Count > 0) { fields.Add(sb.ToString()); records.Add((fields, recordLine)); }
        if (records.Count == 0) throw new InvalidDataException($"{origin}: empty CSV (no header)");
        var header = records[0].Fields;
        var rows = new List<IReadOnlyList<string>>();
        var lines = new List<int>();
        foreach (var (f, l) in records.Skip(1))
        {
            if (f.Count != header.Count)
                throw new InvalidDataException($"{origin}: line {l}: {f.Count} fields, but the header has {header.Count}");
            rows.Add(f); lines.Add(l);
        }
        return new CsvTable(header, rows, lines);
    }
}
