using Markdig;
using Markdig.Extensions.Tables;
using Markdig.Extensions.Yaml;
using Markdig.Syntax;
using Markdig.Syntax.Inlines;

namespace HelpGen;

public sealed record Example(string Title, string Code, List<string> Remarks);
public sealed record TypeDoc(string TypeName, List<string> Paragraphs);
public sealed record Link(string Text, string Uri);

public sealed class ParameterDoc
{
    public required string Name { get; init; }
    public List<string> Paragraphs { get; } = new();
}

/// <summary>A PlatyPS 2.0 (schema 2024-05-01) cmdlet document, as far as the MAML needs it.</summary>
public sealed class CommandDoc
{
    public required string FilePath { get; init; }
    public Dictionary<string, string> FrontMatter { get; } = new(StringComparer.OrdinalIgnoreCase);
    public string? Title { get; set; }
    public List<string> Synopsis { get; } = new();
    public List<string> Description { get; } = new();
    public List<Example> Examples { get; } = new();
    public List<ParameterDoc> Parameters { get; } = new();
    public List<TypeDoc> Inputs { get; } = new();
    public List<TypeDoc> Outputs { get; } = new();
    public List<string> Notes { get; } = new();
    public List<Link> RelatedLinks { get; } = new();
    public List<string> SyntaxBlocks { get; } = new();
    public HashSet<string> Sections { get; } = new(StringComparer.OrdinalIgnoreCase);
}

/// <summary>A top-level heading of a markdown document and the blocks under it, as Markdig parsed them.</summary>
public sealed record Section(int Level, string Heading, List<Block> Blocks);

public static class MarkdownDocs
{
    public static readonly MarkdownPipeline Pipeline = new MarkdownPipelineBuilder().UseYamlFrontMatter().UsePipeTables().Build();

    /// <summary>PlatyPS placeholders ("{{ Fill in the Synopsis }}") count as missing text.</summary>
    public static bool IsPlaceholder(string text) => text.Contains("{{", StringComparison.Ordinal) && text.Contains("}}", StringComparison.Ordinal);

    public static (MarkdownDocument Doc, Dictionary<string, string> FrontMatter, string? H1, List<Section> Sections) Split(string markdown)
    {
        var doc = Markdown.Parse(markdown, Pipeline);
        var front = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);
        string? h1 = null;
        var sections = new List<Section>();
        Section? current = null;
        foreach (var block in doc)
        {
            switch (block)
            {
                case YamlFrontMatterBlock yaml:
                    // Flat "key: value" pairs are all the front matter holds; nested values (lists) are not needed here.
                    foreach (var line in yaml.Lines.Lines.Select(l => l.ToString()))
                    {
                        var colon = line.IndexOf(':');
                        if (colon <= 0 || char.IsWhiteSpace(line[0]) || line.StartsWith('-')) continue;
                        front[line[..colon].Trim()] = line[(colon + 1)..].Trim().Trim('\'', '"');
                    }
                    break;
                case HeadingBlock { Level: 1 } h:
                    h1 = InlineText(h.Inline);
                    break;
                case HeadingBlock h:
                    current = new Section(h.Level, InlineText(h.Inline), new List<Block>());
                    sections.Add(current);
                    break;
                default:
                    current?.Blocks.Add(block);
                    break;
            }
        }
        return (doc, front, h1, sections);
    }

    public static CommandDoc ParseCommand(string path)
    {
        var markdown = File.ReadAllText(path).Replace("\r\n", "\n");
        var (_, front, h1, sections) = Split(markdown);
        var result = new CommandDoc { FilePath = path, Title = front.GetValueOrDefault("title") ?? h1 };
        foreach (var kv in front) result.FrontMatter[kv.Key] = kv.Value;

        string? h2 = null;
        foreach (var section in sections)
        {
            if (section.Level == 2)
            {
                h2 = section.Heading.Trim().ToUpperInvariant();
                result.Sections.Add(h2);
            }
            var paras = Paragraphs(markdown, section.Blocks);
            switch (h2, section.Level)
            {
                case ("SYNOPSIS", 2): result.Synopsis.AddRange(paras); break;
                case ("DESCRIPTION", 2): result.Description.AddRange(paras); break;
                case ("NOTES", 2): result.Notes.AddRange(paras); break;
                case ("SYNTAX", _):
                    result.SyntaxBlocks.AddRange(section.Blocks.OfType<FencedCodeBlock>().Select(CodeText));
                    break;
                case ("EXAMPLES", 3):
                    var code = string.Join("\n\n", section.Blocks.OfType<FencedCodeBlock>().Select(CodeText));
                    result.Examples.Add(new Example(section.Heading.Trim(), code, paras));
                    break;
                case ("PARAMETERS", 3) when section.Heading.TrimStart().StartsWith('-'):
                    var p = new ParameterDoc { Name = section.Heading.Trim().TrimStart('-').Trim() };
                    // The yaml block is PlatyPS's copy of the metadata; the tool takes those facts from the code.
                    p.Paragraphs.AddRange(paras);
                    result.Parameters.Add(p);
                    break;
                case ("INPUTS", 3): result.Inputs.Add(new TypeDoc(section.Heading.Trim(), paras)); break;
                case ("OUTPUTS", 3): result.Outputs.Add(new TypeDoc(section.Heading.Trim(), paras)); break;
                case ("RELATED LINKS", 2):
                    foreach (var link in section.Blocks.SelectMany(b => b.Descendants<LinkInline>()))
                        if (!link.IsImage) result.RelatedLinks.Add(new Link(InlineText(link), link.Url ?? ""));
                    break;
            }
        }
        return result;
    }

    public static string CodeText(FencedCodeBlock code) => string.Join("\n", code.Lines.Lines.Take(code.Lines.Count).Select(l => l.ToString())).TrimEnd();

    /// <summary>
    /// The prose blocks as MAML paragraphs: each paragraph's markdown source on one line (PlatyPS keeps
    /// inline markdown such as `code` in MAML), list items as "- item", code blocks left out.
    /// </summary>
    public static List<string> Paragraphs(string markdown, IEnumerable<Block> blocks)
    {
        var result = new List<string>();
        foreach (var block in blocks)
        {
            switch (block)
            {
                case ParagraphBlock para:
                    var text = OneLine(Source(markdown, para));
                    if (text.Length > 0) result.Add(text);
                    break;
                case ListBlock list:
                    var n = 1;
                    foreach (var item in list.OfType<ListItemBlock>())
                    {
                        var itemText = string.Join(" ", item.Descendants<ParagraphBlock>().Select(pb => OneLine(Source(markdown, pb))));
                        result.Add((list.IsOrdered ? $"{n++}. " : "- ") + itemText);
                    }
                    break;
                case QuoteBlock quote:
                    result.AddRange(Paragraphs(markdown, quote));
                    break;
                case Table table:
                    foreach (var row in table.OfType<TableRow>())
                        result.Add(string.Join(" | ", row.OfType<TableCell>().Select(c => OneLine(string.Join(" ", c.Descendants<ParagraphBlock>().Select(pb => Source(markdown, pb)))))));
                    break;
            }
        }
        return result;
    }

    private static string Source(string markdown, Block block) => markdown.Substring(block.Span.Start, block.Span.Length);

    private static string OneLine(string text) =>
        string.Join(" ", text.Split('\n', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries));

    /// <summary>Plain text of inline content: code spans and emphasis lose their markers, links keep their label.</summary>
    public static string InlineText(Inline? inline)
    {
        if (inline is null) return "";
        var sb = new System.Text.StringBuilder();
        void Walk(Inline i)
        {
            switch (i)
            {
                case LiteralInline lit: sb.Append(lit.Content.ToString()); break;
                case CodeInline code: sb.Append(code.Content); break;
                case LineBreakInline: sb.Append(' '); break;
                case HtmlEntityInline ent: sb.Append(ent.Transcoded.ToString()); break;
                case ContainerInline c:
                    foreach (var child in c) Walk(child);
                    break;
            }
        }
        Walk(inline);
        return sb.ToString();
    }
}
