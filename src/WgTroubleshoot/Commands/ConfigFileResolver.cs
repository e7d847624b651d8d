using System.Collections.Generic;
using System.Linq;
using System.Management.Automation;
using WgTroubleshoot.Config;

namespace WgTroubleshoot.Commands
{
    /// <summary>
    /// Turns the -Path or -Interface arguments of the configuration cmdlets into file paths, the way Get-WgConfig
    /// always has: paths through the provider (wildcards, PSPath, relative to the current location), interface
    /// names through the configuration directory, nothing at all for every *.conf there. Problems are written as
    /// non-terminating errors on the calling cmdlet and the file is skipped.
    /// </summary>
    internal static class ConfigFileResolver
    {
        /// <summary>The files for one -Path value (wildcards expanded); none, with an error written, when it does not resolve.</summary>
        internal static IEnumerable<string> FromPath(PSCmdlet cmdlet, string path)
        {
            try
            {
                var resolved = cmdlet.GetResolvedProviderPathFromPSPath(path, out var provider);
                if (provider.Name == "FileSystem") return resolved.ToArray();
                cmdlet.WriteError(new WgException(ErrorIds.InvalidArgument, ErrorCategory.InvalidArgument,
                    $"'{path}' is not a file system path.", path).ToErrorRecord());
            }
            catch (ItemNotFoundException ex)
            {
                cmdlet.WriteError(new WgException(ErrorIds.ConfigNotFound, ErrorCategory.ObjectNotFound,
                    $"The configuration file '{path}' does not exist.", path, ex).ToErrorRecord());
            }
            catch (ProviderNotFoundException ex)
            {
                cmdlet.WriteError(new WgException(ErrorIds.ConfigNotFound, ErrorCategory.ObjectNotFound, ex.Message, path, ex).ToErrorRecord());
            }
            return new string[0];
        }

        /// <summary>
        /// The files for -Path (when <paramref name="paths"/> is not null) or for -Interface names; with neither,
        /// every *.conf file of the configuration directory.
        /// </summary>
        internal static IEnumerable<string> Resolve(PSCmdlet cmdlet, string[] paths, string[] interfaces)
        {
            if (paths != null)
            {
                foreach (var p in paths)
                    foreach (var file in FromPath(cmdlet, p))
                        yield return file;
                yield break;
            }
            if (interfaces == null)
            {
                IEnumerable<string> all;
                try
                {
                    all = WgConfigLocation.EnumerateConfigFiles(cmdlet.WriteWarning);
                }
                catch (WgException ex)
                {
                    cmdlet.WriteError(ex.ToErrorRecord());
                    yield break;
                }
                foreach (var file in all) yield return file;
                yield break;
            }
            foreach (var name in interfaces)
            {
                string file;
                try
                {
                    file = WgConfigLocation.PathForInterface(name);
                }
                catch (WgException ex)
                {
                    cmdlet.WriteError(ex.ToErrorRecord());
                    continue;
                }
                yield return file;
            }
        }
    }
}
