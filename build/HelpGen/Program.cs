using HelpGen;

// HelpGen: en-US help for a binary PowerShell module from docs/*.md (PlatyPS 2.0 schema) and the
// compiled cmdlets. It fails when the two disagree, so help cannot drift from the code unnoticed.
string? assemblyPath = null, outDir = null;
var docsDirs = new List<string>();
var newMarkdown = false;
for (var i = 0; i < args.Length; i++)
{
    switch (args[i])
    {
        case "--assembly" when i + 1 < args.Length: assemblyPath = args[++i]; break;
        case "--docs" when i + 1 < args.Length: docsDirs.Add(args[++i]); break;
        case "--out" when i + 1 < args.Length: outDir = args[++i]; break;
        case "--new-markdown": newMarkdown = true; break;
        case "-h" or "--help":
            Console.WriteLine("HelpGen --assembly <Module.dll> --docs <docs dir> [--docs <more docs>] (--out <en-US dir> | --new-markdown)");
            return 0;
        default:
            Console.Error.WriteLine($"HelpGen: unknown argument '{args[i]}'. Use --help.");
            return 2;
    }
}
if (assemblyPath is null || docsDirs.Count == 0 || (outDir is null && !newMarkdown))
{
    Console.Error.WriteLine("HelpGen: --assembly and --docs are required, and --out unless --new-markdown is given.");
    return 2;
}
if (!File.Exists(assemblyPath))
{
    Console.Error.WriteLine($"HelpGen: the module assembly '{assemblyPath}' does not exist. Build first.");
    return 2;
}

var assemblyFile = Path.GetFileName(assemblyPath);
var helpFileName = assemblyFile + "-Help.xml";
var moduleName = Path.GetFileNameWithoutExtension(assemblyPath);
List<CmdletMeta> cmdlets;
try
{
    cmdlets = CmdletReader.Read(assemblyPath);
}
catch (Exception e)
{
    Console.Error.WriteLine($"HelpGen: cannot read cmdlets from '{assemblyPath}': {e.Message}");
    return 2;
}

if (newMarkdown)
{
    var docsDir = docsDirs[0];
    Directory.CreateDirectory(docsDir);
    foreach (var cmdlet in cmdlets)
    {
        var path = Path.Combine(docsDir, cmdlet.Name + ".md");
        var existing = docsDirs.Select(d => Path.Combine(d, cmdlet.Name + ".md")).FirstOrDefault(File.Exists);
        if (existing is not null)
        {
            Console.WriteLine($"{cmdlet.Name}: {existing} exists; left as it is.");
            continue;
        }
        if (File.Exists(path))
        {
            Console.WriteLine($"{cmdlet.Name}: {path} exists; left as it is.");
            continue;
        }
        File.WriteAllText(path, MarkdownWriter.Render(cmdlet, moduleName, helpFileName));
        Console.WriteLine($"{cmdlet.Name}: wrote {path}; fill in every {{{{ placeholder }}}} before building help.");
    }
    return 0;
}

var errors = new List<string>();
var warnings = new List<string>();
var docs = new Dictionary<string, CommandDoc>(StringComparer.OrdinalIgnoreCase);
var abouts = new List<string>();
foreach (var file in docsDirs.Where(Directory.Exists).SelectMany(d => Directory.GetFiles(d, "*.md").OrderBy(f => f, StringComparer.Ordinal)))
{
    var name = Path.GetFileNameWithoutExtension(file);
    if (name.StartsWith("about_", StringComparison.OrdinalIgnoreCase)) { abouts.Add(file); continue; }
    var doc = MarkdownDocs.ParseCommand(file);
    var type = doc.FrontMatter.GetValueOrDefault("document type");
    if (type is null && !name.Contains('-')) continue; // README and the like
    if (type is not null && !type.Equals("cmdlet", StringComparison.OrdinalIgnoreCase)) continue;
    if (!string.Equals(doc.Title, name, StringComparison.OrdinalIgnoreCase))
        errors.Add($"{name}: {Path.GetFileName(file)} has title '{doc.Title}'; the title must be the cmdlet name");
    if (docs.ContainsKey(name))
        errors.Add($"{name}: documented twice ({docs[name].FilePath} and {file})");
    docs[name] = doc;
}

var pairs = new List<(CmdletMeta, CommandDoc)>();
foreach (var cmdlet in cmdlets)
{
    if (!docs.TryGetValue(cmdlet.Name, out var doc))
    {
        errors.Add($"{cmdlet.Name}: the cmdlet has no documentation; expected {cmdlet.Name}.md in the docs folder (build.ps1 NewHelpMarkdown writes a starter)");
        continue;
    }
    pairs.Add((cmdlet, doc));
    var file = Path.GetFileName(doc.FilePath);
    if (!doc.Synopsis.Any(p => !MarkdownDocs.IsPlaceholder(p)))
        errors.Add($"{cmdlet.Name}: {file} has no synopsis (## SYNOPSIS)");
    if (!doc.Description.Any(p => !MarkdownDocs.IsPlaceholder(p)))
        errors.Add($"{cmdlet.Name}: {file} has no description (## DESCRIPTION)");
    var examples = doc.Examples.Where(e => e.Code.Length > 0 && !MarkdownDocs.IsPlaceholder(e.Code) && !MarkdownDocs.IsPlaceholder(e.Title)).ToList();
    if (examples.Count < 2)
        errors.Add($"{cmdlet.Name}: {file} has {examples.Count} complete example(s); at least two are needed, each a ### heading with a code block");
    foreach (var ex in doc.Examples.Where(e => e.Remarks.Any(MarkdownDocs.IsPlaceholder)))
        errors.Add($"{cmdlet.Name}: {file} example '{ex.Title}' still has placeholder remarks");

    foreach (var dup in doc.Parameters.GroupBy(p => p.Name, StringComparer.OrdinalIgnoreCase).Where(g => g.Count() > 1))
        errors.Add($"{cmdlet.Name}: {file} documents parameter -{dup.Key} more than once");
    foreach (var p in cmdlet.Parameters)
    {
        var pd = doc.Parameters.FirstOrDefault(d => string.Equals(d.Name, p.Name, StringComparison.OrdinalIgnoreCase));
        if (pd is null)
            errors.Add($"{cmdlet.Name}: parameter -{p.Name} is not documented; {file} needs a '### -{p.Name}' section under ## PARAMETERS");
        else if (!pd.Paragraphs.Any(t => !MarkdownDocs.IsPlaceholder(t)))
            errors.Add($"{cmdlet.Name}: parameter -{p.Name} has no description in {file}");
    }
    foreach (var pd in doc.Parameters)
        if (!cmdlet.Parameters.Any(p => string.Equals(p.Name, pd.Name, StringComparison.OrdinalIgnoreCase)))
            errors.Add($"{cmdlet.Name}: {file} documents parameter -{pd.Name}, which the cmdlet does not have");

    foreach (var t in cmdlet.OutputTypes)
        if (!doc.Outputs.Any(o => o.TypeName == t))
            warnings.Add($"{cmdlet.Name}: output type {t} is not described under ## OUTPUTS in {file}");
    var syntax = cmdlet.ParameterSets.Select(s => CmdletReader.SyntaxLine(cmdlet, s)).ToList();
    if (doc.SyntaxBlocks.Count > 0 && !syntax.All(s => doc.SyntaxBlocks.Any(b => b.Trim() == s)))
        warnings.Add($"{cmdlet.Name}: ## SYNTAX in {file} differs from the code; it should read: {string.Join(" | ", syntax)}");
}
foreach (var (name, doc) in docs)
    if (!cmdlets.Any(c => string.Equals(c.Name, name, StringComparison.OrdinalIgnoreCase)))
        errors.Add($"{name}: {Path.GetFileName(doc.FilePath)} documents cmdlet {name}, which {assemblyFile} does not contain");

var aboutTexts = new List<(string Topic, string Text)>();
foreach (var file in abouts)
{
    var text = AboutWriter.Render(File.ReadAllText(file), out var topic, errors);
    if (!string.Equals(topic, Path.GetFileNameWithoutExtension(file), StringComparison.OrdinalIgnoreCase))
        errors.Add($"{Path.GetFileName(file)}: the about topic's title '{topic}' must match the file name");
    aboutTexts.Add((topic, text));
}

foreach (var w in warnings) Console.Error.WriteLine("HelpGen: warning: " + w);
if (errors.Count > 0)
{
    foreach (var e in errors) Console.Error.WriteLine("HelpGen: error: " + e);
    Console.Error.WriteLine($"HelpGen: {errors.Count} error(s); the help and the code disagree. No help was written.");
    return 1;
}

Directory.CreateDirectory(outDir!);
var mamlPath = Path.Combine(outDir!, helpFileName);
MamlWriter.Write(mamlPath, pairs);
Console.WriteLine($"HelpGen: wrote {mamlPath} ({pairs.Count} cmdlet(s))");
foreach (var (topic, text) in aboutTexts)
{
    var path = Path.Combine(outDir!, topic + ".help.txt");
    File.WriteAllText(path, text);
    Console.WriteLine($"HelpGen: wrote {path}");
}
return 0;
