using System;
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
        /// <summary>
        /// The files for one path; none, with an error written, when it does not resolve. A literal path is never
        /// expanded (a[b].conf is that file); a wildcard path is taken literally when that file exists, else expanded.
        /// A directory is an error of its own (never "permission denied").
        /// </summary>
        internal static IEnumerable<string> FromPath(PSCmdlet cmdlet, string path, bool literal = false)
        {
            try
            {
                string[] files;
                if (literal || LiteralExists(cmdlet, path))
                {
                    var one = cmdlet.SessionState.Path.GetUnresolvedProviderPathFromPSPath(path, out var literalProvider, out _);
                    if (literalProvider.Name != "FileSystem")
                    {
                        cmdlet.WriteError(new WgException(ErrorIds.InvalidArgument, ErrorCategory.InvalidArgument,
                            $"'{path}' is not a file system path.", path).ToErrorRecord());
                        return new string[0];
                    }
                    if (!System.IO.File.Exists(one) && !System.IO.Directory.Exists(one))
                        throw new ItemNotFoundException(path);
                    files = new[] { one };
                }
                else
                {
                    var resolved = cmdlet.GetResolvedProviderPathFromPSPath(path, out var provider);
                    if (provider.Name != "FileSystem")
                    {
                        cmdlet.WriteError(new WgException(ErrorIds.InvalidArgument, ErrorCategory.InvalidArgument,
                            $"'{path}' is not a file system path.", path).ToErrorRecord());
                        return new string[0];
                    }
                    files = resolved.ToArray();
                }
                var result = new List<string>();
                foreach (var f in files)
                {
                    if (System.IO.Directory.Exists(f))
                    {
                        cmdlet.WriteError(new WgException(ErrorIds.ConfigNotFound, ErrorCategory.ObjectNotFound,
                            $"'{f}' is a directory, not a configuration file. Name a .conf file, or use -Interface for the files of the configuration directory.", f).ToErrorRecord());
                        continue;
                    }
                    result.Add(f);
                }
                return result;
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

        private static bool LiteralExists(PSCmdlet cmdlet, string path)
        {
            try
            {
                var p = cmdlet.SessionState.Path.GetUnresolvedProviderPathFromPSPath(path, out var provider, out _);
                return provider.Name == "FileSystem" && (System.IO.File.Exists(p) || System.IO.Directory.Exists(p));
            }
            catch (Exception ex) when (ex is ProviderNotFoundException || ex is DriveNotFoundException || ex is NotSupportedException || ex is ArgumentException || ex is PSInvalidOperationException)
            {
                return false;
            }
        }

        /// <summary>
        /// The files for -Path/-LiteralPath (when <paramref name="paths"/> is not null) or for -Interface names;
        /// with neither, every *.conf file of the configuration directory.
        /// </summary>
        internal static IEnumerable<string> Resolve(PSCmdlet cmdlet, string[] paths, string[] interfaces, bool literal = false)
        {
            if (paths != null)
            {
                foreach (var p in paths)
                    foreach (var file in FromPath(cmdlet, p, literal))
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
