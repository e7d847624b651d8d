using System.Text;

namespace HelpGen;

/// <summary>Starter documents in PlatyPS 2.0 form, as New-MarkdownCommandHelp writes them.</summary>
public static class MarkdownWriter
{
    public const string CommonParametersText =
        "This cmdlet supports the common parameters: -Debug, -ErrorAction, -ErrorVariable,\n" +
        "-InformationAction, -InformationVariable, -OutBuffer, -OutVariable, -PipelineVariable,\n" +
        "-ProgressAction, -Verbose, -WarningAction, and -WarningVariable. For more information, see\n" +
        "[about_CommonParameters](https://go.microsoft.com/fwlink/?LinkID=113216).";

    public static string Render(CmdletMeta cmdlet, string moduleName, string helpFileName)
    {
        var sb = new StringBuilder();
        void L(string line = "") => sb.Append(line).Append('\n');
        L("---");
        L("document type: cmdlet");
        L($"external help file: {helpFileName}");
        L("HelpUri: ''");
        L("Locale: en-US");
        L($"Module Name: {moduleName}");
        L($"ms.date: {DateTime.UtcNow:MM/dd/yyyy}");
        L("PlatyPS schema version: 2024-05-01");
        L($"title: {cmdlet.Name}");
        L("---");
        L();
        L($"# {cmdlet.Name}");
        L();
        L("## SYNOPSIS");
        L();
        L("{{ Fill in the Synopsis }}");
        L();
        L("## SYNTAX");
        L();
        foreach (var set in cmdlet.ParameterSets)
        {
            L($"### {set.Name}{(set.IsDefault && cmdlet.ParameterSets.Count > 1 ? " (Default)" : "")}");
            L();
            L("```");
            L(CmdletReader.SyntaxLine(cmdlet, set));
            L("```");
            L();
        }
        L("## ALIASES");
        L();
        L("This cmdlet has the following aliases,");
        L("  {{Insert list of aliases}}");
        L();
        L("## DESCRIPTION");
        L();
        L("{{ Fill in the Description }}");
        L();
        L("## EXAMPLES");
        L();
        for (var i = 1; i <= 2; i++)
        {
            L($"### Example {i}: {{{{ Add example title here }}}}");
            L();
            L("```powershell");
            L("PS> {{ Add example code here }}");
            L("```");
            L();
            L("{{ Add example description here }}");
            L();
        }
        L("## PARAMETERS");
        L();
        foreach (var p in cmdlet.Parameters.Where(p => !p.IsShouldProcessParameter).OrderBy(p => p.Name, StringComparer.OrdinalIgnoreCase)
                     .Concat(cmdlet.Parameters.Where(p => p.IsShouldProcessParameter).OrderBy(p => p.Name)))
        {
            L($"### -{p.Name}");
            L();
            L(p.Name switch
            {
                "WhatIf" when p.IsShouldProcessParameter => "Shows what would happen if the cmdlet runs. The cmdlet is not run.",
                "Confirm" when p.IsShouldProcessParameter => "Prompts you for confirmation before running the cmdlet.",
                _ => $"{{{{ Fill {p.Name} Description }}}}",
            });
            L();
            L("```yaml");
            L($"Type: {p.TypeFullName}");
            L($"DefaultValue: {p.DefaultValue ?? (p.IsSwitch ? "False" : "None")}");
            L($"SupportsWildcards: {(p.SupportsWildcards ? "true" : "false")}");
            if (p.Aliases.Count == 0) L("Aliases: []");
            else
            {
                L("Aliases:");
                foreach (var a in p.Aliases) L($"- {a}");
            }
            L("ParameterSets:");
            foreach (var (setName, use) in p.Sets)
            {
                L($"- Name: {(setName == CmdletReader.AllSets ? "(All)" : setName)}");
                L($"  Position: {(use.Position is int pos ? pos.ToString() : "Named")}");
                L($"  IsRequired: {(use.Mandatory ? "true" : "false")}");
                L($"  ValueFromPipeline: {(use.ByValue ? "true" : "false")}");
                L($"  ValueFromPipelineByPropertyName: {(use.ByPropertyName ? "true" : "false")}");
                L($"  ValueFromRemainingArguments: {(p.ValueFromRemainingArguments ? "true" : "false")}");
            }
            L($"DontShow: {(p.DontShow ? "true" : "false")}");
            L("AcceptedValues: []");
            L($"HelpMessage: '{(p.HelpMessage ?? "").Replace("'", "''")}'");
            L("```");
            L();
        }
        L("### CommonParameters");
        L();
        L(CommonParametersText);
        L();
        L("## INPUTS");
        L();
        var inputs = cmdlet.Parameters.Where(p => p.Sets.Values.Any(u => u.ByValue || u.ByPropertyName)).Select(p => p.TypeFullName).Distinct().ToList();
        if (inputs.Count == 0) inputs.Add("None");
        foreach (var t in inputs)
        {
            L($"### {t}");
            L();
            L("{{ Fill in the Description }}");
            L();
        }
        L("## OUTPUTS");
        L();
        foreach (var t in cmdlet.OutputTypes.DefaultIfEmpty("System.Object"))
        {
            L($"### {t}");
            L();
            L("{{ Fill in the Description }}");
            L();
        }
        L("## NOTES");
        L();
        L("{{ Fill in the Notes }}");
        L();
        L("## RELATED LINKS");
        L();
        L("{{ Fill in the related links here }}");
        return sb.ToString();
    }
}
