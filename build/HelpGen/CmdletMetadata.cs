using System.Reflection;
using System.Runtime.InteropServices;

namespace HelpGen;

/// <summary>How one parameter behaves in one parameter set.</summary>
public sealed record ParameterSetUse(bool Mandatory, int? Position, bool ByValue, bool ByPropertyName)
{
    /// <summary>The pipelineInput text Get-Help shows for MAML help.</summary>
    public string PipelineInput => (ByValue, ByPropertyName) switch
    {
        (true, true) => "True (ByValue, ByPropertyName)",
        (true, false) => "True (ByValue)",
        (false, true) => "True (ByPropertyName)",
        _ => "False",
    };

    /// <summary>"named", or the position as Get-Command reports it.</summary>
    public string PositionText => Position is int p ? p.ToString(System.Globalization.CultureInfo.InvariantCulture) : "named";
}

public sealed class ParameterMeta
{
    public required string Name { get; init; }
    /// <summary>Type.Name, as Get-Command's ParameterType.Name shows it (String[]).</summary>
    public required string TypeName { get; init; }
    /// <summary>Type.FullName (System.String[]).</summary>
    public required string TypeFullName { get; init; }
    public bool IsSwitch => TypeFullName == "System.Management.Automation.SwitchParameter";
    public List<string> Aliases { get; } = new();
    public bool SupportsWildcards { get; set; }
    public string? DefaultValue { get; set; }
    public string? HelpMessage { get; set; }
    public bool DontShow { get; set; }
    public bool ValueFromRemainingArguments { get; set; }
    /// <summary>Keyed by parameter set name; "__AllParameterSets" for parameters in every set.</summary>
    public Dictionary<string, ParameterSetUse> Sets { get; } = new(StringComparer.OrdinalIgnoreCase);
    /// <summary>WhatIf and Confirm, which SupportsShouldProcess adds.</summary>
    public bool IsShouldProcessParameter { get; init; }
}

public sealed class ParameterSetMeta
{
    public required string Name { get; init; }
    public bool IsDefault { get; init; }
    /// <summary>The parameters of this set with how they behave here.</summary>
    public List<(ParameterMeta Parameter, ParameterSetUse Use)> Parameters { get; } = new();
}

public sealed class CmdletMeta
{
    public required string Verb { get; init; }
    public required string Noun { get; init; }
    public string Name => Verb + "-" + Noun;
    public required string ClassName { get; init; }
    public bool SupportsShouldProcess { get; init; }
    public string? DefaultParameterSetName { get; init; }
    public List<ParameterMeta> Parameters { get; } = new();
    public List<ParameterSetMeta> ParameterSets { get; } = new();
    public List<string> OutputTypes { get; } = new();
}

/// <summary>
/// Reads cmdlet metadata from a compiled module with MetadataLoadContext: nothing in the module runs,
/// and the module's PowerShell reference assembly never has to match the one PowerShell ships.
/// </summary>
public static class CmdletReader
{
    public const string AllSets = "__AllParameterSets";
    private const string Sma = "System.Management.Automation.";

    public static List<CmdletMeta> Read(string assemblyPath)
    {
        assemblyPath = Path.GetFullPath(assemblyPath);
        var moduleDir = Path.GetDirectoryName(assemblyPath)!;
        var paths = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);
        void Add(string dir)
        {
            if (!Directory.Exists(dir)) return;
            foreach (var dll in Directory.GetFiles(dir, "*.dll"))
                paths.TryAdd(Path.GetFileName(dll), dll);
        }
        Add(moduleDir);
        // System.Management.Automation (PowerShellStandard.Library's reference assembly) sits next to this tool.
        Add(AppContext.BaseDirectory);
        Add(RuntimeEnvironment.GetRuntimeDirectory());
        paths[Path.GetFileName(assemblyPath)] = assemblyPath;

        using var context = new MetadataLoadContext(new PathAssemblyResolver(paths.Values), typeof(object).Assembly.GetName().Name);
        var assembly = context.LoadFromAssemblyPath(assemblyPath);
        Type[] types;
        try { types = assembly.GetTypes(); }
        catch (ReflectionTypeLoadException e) { types = e.Types.Where(t => t is not null).ToArray()!; }

        var result = new List<CmdletMeta>();
        foreach (var type in types)
        {
            if (!type.IsPublic || type.IsAbstract || !DerivesFrom(type, Sma + "Cmdlet")) continue;
            var cmdletAttr = type.GetCustomAttributesData().FirstOrDefault(a => a.AttributeType.FullName == Sma + "CmdletAttribute");
            if (cmdletAttr is null) continue;
            result.Add(ReadCmdlet(type, cmdletAttr));
        }
        return result.OrderBy(c => c.Name, StringComparer.OrdinalIgnoreCase).ToList();
    }

    private static bool DerivesFrom(Type type, string fullName)
    {
        for (var t = type.BaseType; t is not null; t = t.BaseType)
            if (t.FullName == fullName) return true;
        return false;
    }

    private static T? Named<T>(CustomAttributeData data, string name)
    {
        foreach (var arg in data.NamedArguments)
            if (arg.MemberName == name && arg.TypedValue.Value is T value) return value;
        return default;
    }

    private static IEnumerable<object?> Flatten(CustomAttributeTypedArgument arg) =>
        arg.Value is IEnumerable<CustomAttributeTypedArgument> items ? items.Select(i => i.Value) : new[] { arg.Value };

    private static CmdletMeta ReadCmdlet(Type type, CustomAttributeData cmdletAttr)
    {
        var cmdlet = new CmdletMeta
        {
            Verb = (string)cmdletAttr.ConstructorArguments[0].Value!,
            Noun = (string)cmdletAttr.ConstructorArguments[1].Value!,
            ClassName = type.FullName!,
            SupportsShouldProcess = Named<bool>(cmdletAttr, "SupportsShouldProcess"),
            DefaultParameterSetName = Named<string>(cmdletAttr, "DefaultParameterSetName"),
        };

        foreach (var attr in type.GetCustomAttributesData().Where(a => a.AttributeType.FullName == Sma + "OutputTypeAttribute"))
            foreach (var arg in attr.ConstructorArguments)
                foreach (var value in Flatten(arg))
                {
                    var name = value switch { Type t => t.FullName, string s => s, _ => null };
                    if (name is not null && !cmdlet.OutputTypes.Contains(name)) cmdlet.OutputTypes.Add(name);
                }

        const BindingFlags flags = BindingFlags.Public | BindingFlags.Instance;
        var members = type.GetProperties(flags).Select(p => ((MemberInfo)p, p.PropertyType))
            .Concat(type.GetFields(flags).Select(f => ((MemberInfo)f, f.FieldType)));
        foreach (var (member, memberType) in members)
        {
            var attrs = member.GetCustomAttributesData();
            var paramAttrs = attrs.Where(a => a.AttributeType.FullName == Sma + "ParameterAttribute").ToList();
            if (paramAttrs.Count == 0) continue;
            var p = new ParameterMeta { Name = member.Name, TypeName = memberType.Name, TypeFullName = memberType.FullName ?? memberType.Name };
            foreach (var pa in paramAttrs)
            {
                var position = Named<int?>(pa, "Position");
                var setName = Named<string>(pa, "ParameterSetName") ?? AllSets;
                p.Sets[setName] = new ParameterSetUse(
                    Named<bool>(pa, "Mandatory"),
                    position is int pos && pos != int.MinValue ? pos : null,
                    Named<bool>(pa, "ValueFromPipeline"),
                    Named<bool>(pa, "ValueFromPipelineByPropertyName"));
                p.HelpMessage ??= Named<string>(pa, "HelpMessage");
                p.DontShow |= Named<bool>(pa, "DontShow");
                p.ValueFromRemainingArguments |= Named<bool>(pa, "ValueFromRemainingArguments");
            }
            foreach (var a in attrs)
            {
                switch (a.AttributeType.FullName)
                {
                    case Sma + "AliasAttribute":
                        foreach (var arg in a.ConstructorArguments)
                            foreach (var v in Flatten(arg))
                                if (v is string s) p.Aliases.Add(s);
                        break;
                    case Sma + "SupportsWildcardsAttribute":
                        p.SupportsWildcards = true;
                        break;
                    case Sma + "PSDefaultValueAttribute":
                        p.DefaultValue = Named<object>(a, "Value")?.ToString();
                        break;
                }
            }
            cmdlet.Parameters.Add(p);
        }

        if (cmdlet.SupportsShouldProcess)
        {
            // What PowerShell adds for SupportsShouldProcess; PlatyPS documents both like ordinary parameters.
            foreach (var (name, alias) in new[] { ("WhatIf", "wi"), ("Confirm", "cf") })
            {
                var p = new ParameterMeta { Name = name, TypeName = "SwitchParameter", TypeFullName = Sma + "SwitchParameter", IsShouldProcessParameter = true };
                p.Aliases.Add(alias);
                p.Sets[AllSets] = new ParameterSetUse(false, null, false, false);
                cmdlet.Parameters.Add(p);
            }
        }

        // Parameter sets as PowerShell forms them: every named set, plus the parameters in all sets.
        var setNames = cmdlet.Parameters.SelectMany(p => p.Sets.Keys)
            .Where(s => !string.Equals(s, AllSets, StringComparison.OrdinalIgnoreCase))
            .Distinct(StringComparer.OrdinalIgnoreCase).ToList();
        if (setNames.Count == 0) setNames.Add(AllSets);
        // A DefaultParameterSetName that no parameter names explicitly is still a set of its own
        // (made of the parameters in all sets), as Get-Command shows it.
        if (cmdlet.DefaultParameterSetName is { } named && setNames.Count > 0 && setNames[0] != AllSets
            && !setNames.Contains(named, StringComparer.OrdinalIgnoreCase))
            setNames.Add(named);
        var defaultSet = cmdlet.DefaultParameterSetName ?? (setNames.Count == 1 ? setNames[0] : null);
        // The default set first, the way help usually shows it.
        setNames = setNames.OrderBy(s => string.Equals(s, defaultSet, StringComparison.OrdinalIgnoreCase) ? 0 : 1).ToList();
        foreach (var setName in setNames)
        {
            var set = new ParameterSetMeta { Name = setName, IsDefault = string.Equals(setName, defaultSet, StringComparison.OrdinalIgnoreCase) };
            foreach (var p in cmdlet.Parameters)
            {
                if (p.Sets.TryGetValue(setName, out var use) || p.Sets.TryGetValue(AllSets, out use))
                    set.Parameters.Add((p, use));
            }
            cmdlet.ParameterSets.Add(set);
        }
        return cmdlet;
    }

    /// <summary>
    /// Parameters in the order Get-Command's syntax shows them: positional ones by position,
    /// then named ones in declaration order, WhatIf and Confirm last.
    /// </summary>
    public static IEnumerable<(ParameterMeta Parameter, ParameterSetUse Use)> DisplayOrder(ParameterSetMeta set) =>
        set.Parameters.Where(x => x.Use.Position is not null).OrderBy(x => x.Use.Position)
            .Concat(set.Parameters.Where(x => x.Use.Position is null && !x.Parameter.IsShouldProcessParameter))
            .Concat(set.Parameters.Where(x => x.Parameter.IsShouldProcessParameter));

    private static readonly Dictionary<string, string> Accelerators = new()
    {
        ["System.String"] = "string", ["System.Int32"] = "int", ["System.Int64"] = "long", ["System.UInt16"] = "ushort",
        ["System.UInt32"] = "uint", ["System.Boolean"] = "bool", ["System.Object"] = "Object", ["System.TimeSpan"] = "timespan",
        ["System.DateTime"] = "datetime", ["System.Double"] = "double", ["System.Byte"] = "byte",
        ["System.Management.Automation.PSObject"] = "psobject", ["System.Management.Automation.ScriptBlock"] = "scriptblock",
        ["System.Management.Automation.PSCredential"] = "pscredential", ["System.Net.IPAddress"] = "ipaddress",
    };

    /// <summary>The type name the way Get-Command -Syntax writes it (string[], int, WgKey).</summary>
    public static string SyntaxTypeName(ParameterMeta p)
    {
        var full = p.TypeFullName;
        // Nullable<T> reads as T, the way Get-Command -Syntax writes it.
        if (full.StartsWith("System.Nullable`1[[", StringComparison.Ordinal))
            full = full.Substring("System.Nullable`1[[".Length).Split(',')[0];
        var suffix = "";
        while (full.EndsWith("[]", StringComparison.Ordinal)) { suffix += "[]"; full = full[..^2]; }
        if (Accelerators.TryGetValue(full, out var acc)) return acc + suffix;
        var shortName = p.TypeName;
        return shortName;
    }

    /// <summary>One syntax line, as Get-Command -Syntax and PlatyPS write it.</summary>
    public static string SyntaxLine(CmdletMeta cmdlet, ParameterSetMeta set)
    {
        var parts = new List<string> { cmdlet.Name };
        foreach (var (p, use) in DisplayOrder(set))
        {
            var name = use.Position is not null ? $"[-{p.Name}]" : $"-{p.Name}";
            var text = p.IsSwitch ? name : $"{name} <{SyntaxTypeName(p)}>";
            parts.Add(use.Mandatory ? text : $"[{text}]");
        }
        parts.Add("[<CommonParameters>]");
        return string.Join(' ', parts);
    }
}
