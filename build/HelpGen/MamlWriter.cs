using System.Text;
using System.Xml;

namespace HelpGen;

/// <summary>Writes MAML the way Get-Help reads it (the form PlatyPS produced for binary modules).</summary>
public static class MamlWriter
{
    private const string Msh = "http://msh";
    private const string Maml = "http://schemas.microsoft.com/maml/2004/10";
    private const string Command = "http://schemas.microsoft.com/maml/dev/command/2004/10";
    private const string Dev = "http://schemas.microsoft.com/maml/dev/2004/10";
    private const string MsHelp = "http://msdn.microsoft.com/mshelp";

    public static void Write(string path, IEnumerable<(CmdletMeta Cmdlet, CommandDoc Doc)> commands)
    {
        var settings = new XmlWriterSettings { Indent = true, IndentChars = "  ", Encoding = new UTF8Encoding(false) };
        using var w = XmlWriter.Create(path, settings);
        w.WriteStartDocument();
        w.WriteStartElement("helpItems", Msh);
        w.WriteAttributeString("schema", "maml");
        foreach (var (cmdlet, doc) in commands) WriteCommand(w, cmdlet, doc);
        w.WriteEndElement();
        w.WriteEndDocument();
    }

    private static void Paras(XmlWriter w, IEnumerable<string> paras)
    {
        foreach (var p in paras) w.WriteElementString("para", Maml, p);
    }

    private static void Description(XmlWriter w, IEnumerable<string> paras)
    {
        w.WriteStartElement("description", Maml);
        Paras(w, paras);
        w.WriteEndElement();
    }

    private static void DevType(XmlWriter w, string name)
    {
        w.WriteStartElement("type", Dev);
        w.WriteElementString("name", Maml, name);
        w.WriteElementString("uri", Maml, "");
        w.WriteEndElement();
    }

    private static void WriteCommand(XmlWriter w, CmdletMeta cmdlet, CommandDoc doc)
    {
        w.WriteStartElement("command", "command", Command);
        w.WriteAttributeString("xmlns", "maml", null, Maml);
        w.WriteAttributeString("xmlns", "command", null, Command);
        w.WriteAttributeString("xmlns", "dev", null, Dev);
        w.WriteAttributeString("xmlns", "MSHelp", null, MsHelp);

        w.WriteStartElement("details", Command);
        w.WriteElementString("name", Command, cmdlet.Name);
        w.WriteElementString("verb", Command, cmdlet.Verb);
        w.WriteElementString("noun", Command, cmdlet.Noun);
        Description(w, doc.Synopsis);
        w.WriteEndElement();

        Description(w, doc.Description);

        var paramDocs = doc.Parameters.ToDictionary(p => p.Name, StringComparer.OrdinalIgnoreCase);

        w.WriteStartElement("syntax", Command);
        foreach (var set in cmdlet.ParameterSets)
        {
            w.WriteStartElement("syntaxItem", Command);
            w.WriteElementString("name", Maml, cmdlet.Name);
            foreach (var (p, use) in CmdletReader.DisplayOrder(set))
                WriteParameter(w, p, use, paramDocs.GetValueOrDefault(p.Name), inSyntax: true);
            w.WriteEndElement();
        }
        w.WriteEndElement();

        // The parameters section lists each parameter once, in the order the document gives them.
        w.WriteStartElement("parameters", Command);
        var ordered = cmdlet.Parameters
            .OrderBy(p => doc.Parameters.FindIndex(d => string.Equals(d.Name, p.Name, StringComparison.OrdinalIgnoreCase)) is var i && i >= 0 ? i : int.MaxValue);
        foreach (var p in ordered)
            WriteParameter(w, p, Summary(cmdlet, p), paramDocs.GetValueOrDefault(p.Name), inSyntax: false);
        w.WriteEndElement();

        w.WriteStartElement("inputTypes", Command);
        foreach (var t in doc.Inputs)
        {
            w.WriteStartElement("inputType", Command);
            DevType(w, t.TypeName);
            Description(w, t.Paragraphs);
            w.WriteEndElement();
        }
        w.WriteEndElement();

        w.WriteStartElement("returnValues", Command);
        foreach (var t in doc.Outputs)
        {
            w.WriteStartElement("returnValue", Command);
            DevType(w, t.TypeName);
            Description(w, t.Paragraphs);
            w.WriteEndElement();
        }
        w.WriteEndElement();

        w.WriteStartElement("alertSet", Maml);
        if (doc.Notes.Count > 0)
        {
            w.WriteStartElement("alert", Maml);
            Paras(w, doc.Notes);
            w.WriteEndElement();
        }
        w.WriteEndElement();

        w.WriteStartElement("examples", Command);
        foreach (var ex in doc.Examples)
        {
            w.WriteStartElement("example", Command);
            w.WriteElementString("title", Maml, $"--------- {ex.Title} ---------");
            w.WriteElementString("code", Dev, ex.Code);
            w.WriteStartElement("remarks", Dev);
            Paras(w, ex.Remarks);
            w.WriteEndElement();
            w.WriteEndElement();
        }
        w.WriteEndElement();

        w.WriteStartElement("relatedLinks", Command);
        foreach (var link in doc.RelatedLinks)
        {
            w.WriteStartElement("navigationLink", Maml);
            w.WriteElementString("linkText", Maml, link.Text);
            // Get-Help -Online opens the first absolute URI; links to sibling .md files carry none.
            var uri = Uri.TryCreate(link.Uri, UriKind.Absolute, out var u) && (u.Scheme == "http" || u.Scheme == "https") ? link.Uri : "";
            w.WriteElementString("uri", Maml, uri);
            w.WriteEndElement();
        }
        w.WriteEndElement();

        w.WriteEndElement();
    }

    /// <summary>
    /// One set of values for the parameters section: the default set's when the parameter is in it,
    /// otherwise the first set that has it.
    /// </summary>
    public static ParameterSetUse Summary(CmdletMeta cmdlet, ParameterMeta p)
    {
        foreach (var set in cmdlet.ParameterSets.OrderBy(s => s.IsDefault ? 0 : 1))
            foreach (var (q, use) in set.Parameters)
                if (ReferenceEquals(p, q)) return use;
        return p.Sets.Values.First();
    }

    private static void WriteParameter(XmlWriter w, ParameterMeta p, ParameterSetUse use, ParameterDoc? doc, bool inSyntax)
    {
        var isArray = p.TypeFullName.EndsWith("[]", StringComparison.Ordinal);
        w.WriteStartElement("parameter", Command);
        w.WriteAttributeString("required", use.Mandatory ? "true" : "false");
        w.WriteAttributeString("variableLength", isArray ? "true" : "false");
        w.WriteAttributeString("globbing", p.SupportsWildcards ? "true" : "false");
        w.WriteAttributeString("pipelineInput", use.PipelineInput);
        w.WriteAttributeString("position", use.PositionText);
        w.WriteAttributeString("aliases", p.Aliases.Count == 0 ? "none" : string.Join(", ", p.Aliases));
        w.WriteElementString("name", Maml, p.Name);
        if (!inSyntax) Description(w, doc?.Paragraphs ?? new List<string>());
        // A switch takes no value: in syntax it shows as [-Name], in the parameters section as [<SwitchParameter>].
        if (!(inSyntax && p.IsSwitch))
        {
            w.WriteStartElement("parameterValue", Command);
            w.WriteAttributeString("required", p.IsSwitch ? "false" : "true");
            w.WriteAttributeString("variableLength", "false");
            w.WriteString(p.TypeName);
            w.WriteEndElement();
        }
        DevType(w, p.TypeFullName);
        w.WriteElementString("defaultValue", Dev, p.DefaultValue ?? (p.IsSwitch ? "False" : "None"));
        w.WriteEndElement();
    }
}
