using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using WgTroubleshoot.Bundle;
using WgTroubleshoot.Config;
using WgTroubleshoot.Lint;

namespace WgTroubleshoot.Snapshot.Sources
{
    /// <summary>
    /// Each interface's wg-quick configuration (parsed, without secrets), its lint findings and its peers' names;
    /// with -PeerConfigPath, the other end's file compared with it. A missing file is a fact (no config), an
    /// unreadable one is a failed source.
    /// </summary>
    public sealed class ConfigSource : ISnapshotSource
    {
        public string Name => SourceNames.Config;
        public SnapshotStage Stage => SnapshotStage.Discover;

        public void Collect(CollectContext ctx)
        {
            foreach (var i in ctx.Snapshot.Interfaces)
            {
                LintFile lint = null;
                ctx.Run(Name, i.Name, () => lint = ReadOne(ctx, i));
                var other = ctx.Request.PeerConfigPath;
                if (string.IsNullOrEmpty(other)) continue;
                ctx.Run(SourceNames.PeerConfig, i.Name, () =>
                {
                    if (lint == null) throw new WgException(ErrorIds.ConfigNotFound, System.Management.Automation.ErrorCategory.ObjectNotFound,
                        $"'{i.Name}' has no readable configuration file to compare with {other}.", i.Name);
                    var otherFile = LintFile.Read(other);
                    foreach (var s in Redaction.SecretsOf(otherFile.Document)) ctx.Secrets.Add(s);
                    i.PeerConfig = ConfigSnapshot.From(otherFile.Config, other);
                    i.BothEnds = PeerConfigComparer.Compare(lint, otherFile).ToList();
                });
            }
        }

        private static LintFile ReadOne(CollectContext ctx, InterfaceSnapshot i)
        {
            var path = WgConfigLocation.PathForConfigOrNull(i.Name);
            if (path == null || !File.Exists(path))
            {
                ctx.Report(SourceNames.Config, i.Name, SourceState.Ok, message: $"No configuration file {path}: the interface was set up without wg-quick.");
                return null;
            }
            var lint = LintFile.Read(path);
            foreach (var s in Redaction.SecretsOf(lint.Document)) ctx.Secrets.Add(s);
            i.Config = ConfigSnapshot.From(lint.Config, path);
            i.Lint = ConfigLinter.LintOne(lint).ToList();
            if (lint.Config != null)
            {
                var names = new Dictionary<string, string>(StringComparer.Ordinal);
                foreach (var p in lint.Config.Peers)
                    if (p.PublicKey != null && p.Name != null && !names.ContainsKey(p.PublicKey)) names.Add(p.PublicKey, p.Name);
                foreach (var s in i.Samples)
                {
                    s.Interface.ConfigPath = path;
                    foreach (var p in s.Peers)
                        if (p.PublicKey != null && names.TryGetValue(p.PublicKey, out var n)) p.Name = n;
                }
            }
            return lint;
        }
    }
}
