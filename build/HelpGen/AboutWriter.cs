using System.Text;
using Markdig.Extensions.Tables;
using Markdig.Syntax;
using Markdig.Syntax.Inlines;

namespace HelpGen;

/// <summary>
/// Turns a PlatyPS about_ document into the plain text Get-Help shows: TOPIC, SHORT DESCRIPTION,
/// LONG DESCRIPTION and the other sections in capitals, text indented four spaces, wrapped at 80 columns.
/// </summary>
public static class AboutWriter
{
    public const int Width = 80;
    private const int Indent = 4;

    public static string Render(string markdown, out string topic, List<string> errors)
    {
        markdown = markdown.Replace("\r\n", "\n");
        var (_, front, h1, sections) = MarkdownDocs.Split(markdown);
        topic = front.GetValueOrDefault("title") ?? h1 ?? "";
        var sb = new StringBuilder();
        sb.Append("TOPIC\n");
        sb.Append(new string(' ', Indent)).Append(topic).Append("\n\n");
        var sawShort = false;
        foreach (var section in sections)
        {
            var heading = section.Heading.Trim();
            if (section.Level == 2)
            {
                if (heading.Equals("Short description", StringComparison.OrdinalIgnoreCase))
                {
                    sawShort = section.Blocks.OfType<ParagraphBlock>().Any();
                }
                sb.Append(heading.ToUpperInvariant()).Append('\n');
            }
            else
            {
                sb.Append(new string(' ', Indent)).Append(heading).Append('\n');
                sb.Append(new string(' ', Indent)).Append(new string('-', heading.Length)).Append("\n\n");
            }
            foreach (var block in section.Blocks) RenderBlock(sb, block, Indent);
            if (section.Blocks.Count == 0) sb.Append('\n');
        }
        if (!sawShort) errors.Add($"{topic}: the about topic has no '## Short description' paragraph");
        return sb.ToString().TrimEnd('\n') + "\n";
    }

    private static void RenderBlock(StringBuilder sb, Block block, int indent)
    {
        switch (block)
        {
            case ParagraphBlock para:
                Wrap(sb, Text(para.Inline), indent, indent);
                sb.Append('\n');
                break;
            case FencedCodeBlock or CodeBlock:
                var code = (LeafBlock)block;
                foreach (var line in code.Lines.Lines.Take(code.Lines.Count))
                    sb.Append(new string(' ', indent + 4)).Append(line.ToString().TrimEnd()).Append('\n');
                sb.Append('\n');
                break;
            case ListBlock list:
                var n = 1;
                foreach (var item in list.OfType<ListItemBlock>())
                {
                    var bullet = list.IsOrdered ? $"{n++}. " : "- ";
                    var first = true;
                    foreach (var child in item)
                    {
                        if (child is ParagraphBlock p && first)
                        {
                            var lines = WrapLines(Text(p.Inline), Width - indent - bullet.Length);
                            for (var i = 0; i < lines.Count; i++)
                                sb.Append(new string(' ', indent)).Append(i == 0 ? bullet : new string(' ', bullet.Length)).Append(lines[i]).Append('\n');
                            first = false;
                        }
                        else RenderBlock(sb, child, indent + bullet.Length);
                    }
                }
                sb.Append('\n');
                break;
            case Table table:
                RenderTable(sb, table, indent);
                break;
            case QuoteBlock quote:
                foreach (var child in quote) RenderBlock(sb, child, indent + 2);
                break;
            case HeadingBlock h:
                sb.Append(new string(' ', indent)).Append(Text(h.Inline)).Append("\n\n");
                break;
        }
    }

    /// <summary>
    /// A table as aligned columns, the last one wrapped beside the others. When the leading columns
    /// leave too little room, each row becomes its first cell with the rest wrapped below it.
    /// </summary>
    private static void RenderTable(StringBuilder sb, Table table, int indent)
    {
        var rows = table.OfType<TableRow>()
            .Select(r => r.OfType<TableCell>().Select(c => string.Join(" ", c.OfType<ParagraphBlock>().Select(p => Text(p.Inline)))).ToList())
            .ToList();
        if (rows.Count == 0) return;
        var columns = rows.Max(r => r.Count);
        foreach (var r in rows) while (r.Count < columns) r.Add("");
        var widths = Enumerable.Range(0, columns - 1).Select(c => rows.Max(r => r[c].Length)).ToList();
        var lastIndent = indent + widths.Sum() + 2 * widths.Count;
        var hasHeader = table.OfType<TableRow>().First().IsHeader;
        if (Width - lastIndent >= 24)
        {
            foreach (var (row, index) in rows.Select((r, i) => (r, i)))
            {
                var lead = new string(' ', indent) + string.Concat(widths.Select((w, c) => row[c].PadRight(w + 2)));
                var lines = WrapLines(row[^1], Width - lastIndent);
                sb.Append((lead + (lines.Count > 0 ? lines[0] : "")).TrimEnd()).Append('\n');
                foreach (var line in lines.Skip(1)) sb.Append(new string(' ', lastIndent)).Append(line).Append('\n');
                if (index == 0 && hasHeader)
                {
                    var rule = new string(' ', indent) + string.Concat(widths.Select(w => new string('-', w) + "  "));
                    sb.Append(rule).Append(new string('-', Math.Max(row[^1].Length, 4))).Append('\n');
                }
            }
        }
        else
        {
            foreach (var row in rows.Skip(hasHeader ? 1 : 0))
            {
                sb.Append(new string(' ', indent)).Append(row[0]).Append('\n');
                Wrap(sb, string.Join("; ", row.Skip(1).Where(c => c.Length > 0)), indent + 4, indent + 4);
            }
        }
        sb.Append('\n');
    }

    /// <summary>Plain text: code spans keep their text, emphasis loses its markers, links show "label (url)".</summary>
    public static string Text(Inline? inline)
    {
        if (inline is null) return "";
        var sb = new StringBuilder();
        void Walk(Inline i)
        {
            switch (i)
            {
                case LiteralInline lit: sb.Append(lit.Content.ToString()); break;
                case CodeInline code: sb.Append(code.Content); break;
                case LineBreakInline: sb.Append(' '); break;
                case HtmlEntityInline ent: sb.Append(ent.Transcoded.ToString()); break;
                case LinkInline link:
                    var label = MarkdownDocs.InlineText(link);
                    sb.Append(label);
                    if (link.Url is { Length: > 0 } url && url != label && Uri.IsWellFormedUriString(url, UriKind.Absolute)) sb.Append(" (").Append(url).Append(')');
                    break;
                case ContainerInline c:
                    foreach (var child in c) Walk(child);
                    break;
            }
        }
        Walk(inline);
        return sb.ToString();
    }

    private static void Wrap(StringBuilder sb, string text, int firstIndent, int indent)
    {
        var lines = WrapLines(text, Width - indent);
        for (var i = 0; i < lines.Count; i++)
            sb.Append(new string(' ', i == 0 ? firstIndent : indent)).Append(lines[i]).Append('\n');
    }

    /// <summary>Greedy word wrap; a word longer than the width stands on its own line.</summary>
    public static List<string> WrapLines(string text, int width)
    {
        var lines = new List<string>();
        var line = new StringBuilder();
        foreach (var word in text.Split(' ', StringSplitOptions.RemoveEmptyEntries))
        {
            if (line.Length > 0 && line.Length + 1 + word.Length > width)
            {
                lines.Add(line.ToString());
                line.Clear();
            }
            if (line.Length > 0) line.Append(' ');
            line.Append(word);
        }
        if (line.Length > 0) lines.Add(line.ToString());
        return lines;
    }
}
