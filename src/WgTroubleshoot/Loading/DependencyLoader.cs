using System;
using System.IO;
using System.Management.Automation;
using System.Reflection;

namespace WgTroubleshoot.Loading
{
    /// <summary>
    /// Loads the module's third-party dependencies (YamlDotNet, BouncyCastle) so that they never collide with
    /// other versions of the same assemblies that other modules bring.
    /// </summary>
    /// <remarks>
    /// Layout: WgTroubleshoot.dll (this assembly, cmdlets and model, no third-party references) sits next to the
    /// manifest; WgTroubleshoot.Engine.dll and its dependencies sit in the Dependencies/ subfolder, where
    /// PowerShell never looks by itself. The engine is the only assembly that references the dependencies; this
    /// assembly reaches it through <see cref="IDependencyEngine"/>.
    ///
    /// On .NET (PowerShell 7) the engine and every assembly of Dependencies/ are loaded by path into a load
    /// context of the module's own (AssemblyLoadContext "WgTroubleshoot"), before the engine's code runs, so that
    /// the engine's references bind to those copies whatever version the default context holds. The load context
    /// type is reached by reflection because this assembly targets netstandard2.0. On .NET Framework
    /// (Windows PowerShell 5.1) the engine is loaded with LoadFrom, whose context probes Dependencies/ for the
    /// engine's references; strong-named assemblies of different versions load side by side there, and an
    /// AppDomain.AssemblyResolve handler answers for Dependencies/ when probing fails.
    ///
    /// Nothing is loaded at import: the engine is loaded on first use.
    /// </remarks>
    internal static class DependencyLoader
    {
        internal const string EngineAssemblyName = "WgTroubleshoot.Engine";
        internal const string EngineTypeName = "WgTroubleshoot.Engine.DependencyEngine";
        internal const string LoadContextName = "WgTroubleshoot";
        internal const string DependencyFolder = "Dependencies";

        private static readonly object Gate = new object();
        private static IDependencyEngine _engine;
        private static string _directory;
        private static bool _frameworkHandlerRegistered;

        /// <summary>The folder the dependencies are loaded from: Dependencies/ beside this assembly, or the assembly's own folder in a build output.</summary>
        internal static string DependencyDirectory
        {
            get
            {
                if (_directory != null) return _directory;
                var here = Path.GetDirectoryName(typeof(DependencyLoader).Assembly.Location) ?? ".";
                var sub = Path.Combine(here, DependencyFolder);
                return _directory = File.Exists(Path.Combine(sub, EngineAssemblyName + ".dll")) ? sub : here;
            }
        }

        /// <summary>True when running on .NET (Core), where assembly load contexts exist.</summary>
        internal static bool HasLoadContexts => LoadContextType != null;

        private static Type LoadContextType => typeof(object).Assembly.GetType("System.Runtime.Loader.AssemblyLoadContext", false);

        /// <summary>The engine, loaded on first use.</summary>
        internal static IDependencyEngine Engine
        {
            get
            {
                var e = _engine;
                if (e != null) return e;
                lock (Gate)
                {
                    return _engine ?? (_engine = LoadEngine());
                }
            }
        }

        /// <summary>The engine's assembly once loaded, else null (for diagnostics and tests).</summary>
        internal static Assembly EngineAssembly => _engine?.GetType().Assembly;

        /// <summary>Called at Import-Module. On .NET Framework, hooks AssemblyResolve; loads nothing.</summary>
        internal static void Register()
        {
            lock (Gate)
            {
                if (!HasLoadContexts && !_frameworkHandlerRegistered)
                {
                    AppDomain.CurrentDomain.AssemblyResolve += OnFrameworkResolve;
                    _frameworkHandlerRegistered = true;
                }
            }
        }

        /// <summary>Called at Remove-Module: unhooks the AppDomain handler. A load context cannot be unloaded while its types may still be referenced, so it stays for a later import.</summary>
        internal static void Unregister()
        {
            lock (Gate)
            {
                if (_frameworkHandlerRegistered)
                {
                    AppDomain.CurrentDomain.AssemblyResolve -= OnFrameworkResolve;
                    _frameworkHandlerRegistered = false;
                }
            }
        }

        private static IDependencyEngine LoadEngine()
        {
            var dir = DependencyDirectory;
            var enginePath = Path.Combine(dir, EngineAssemblyName + ".dll");
            if (!File.Exists(enginePath))
                throw new WgException(ErrorIds.DependencyLoadFailed, ErrorCategory.NotInstalled,
                    $"The module is incomplete: {enginePath} is missing. Reinstall the module.", enginePath);
            try
            {
                var assembly = HasLoadContexts ? LoadIntoOwnContext(dir, enginePath) : LoadFramework(enginePath);
                var type = assembly.GetType(EngineTypeName, true);
                return (IDependencyEngine)Activator.CreateInstance(type);
            }
            catch (Exception ex) when (!(ex is WgException))
            {
                var inner = ex is TargetInvocationException tie && tie.InnerException != null ? tie.InnerException : ex;
                throw new WgException(ErrorIds.DependencyLoadFailed, ErrorCategory.NotInstalled,
                    $"The module's dependencies in {dir} could not be loaded: {inner.Message}", dir, inner);
            }
        }

        // ---- .NET: a load context of our own --------------------------------------------------------------

        private static object _loadContext;

        /// <summary>The module's load context once created (an AssemblyLoadContext), else null.</summary>
        internal static object LoadContext => _loadContext;

        private static Assembly LoadIntoOwnContext(string dir, string enginePath)
        {
            var alcType = LoadContextType;
            var ctor = alcType.GetConstructor(new[] { typeof(string), typeof(bool) })
                       ?? throw new PlatformNotSupportedException("AssemblyLoadContext(string, bool) is missing; .NET Core 3.0 or later is required.");
            var loadFromPath = alcType.GetMethod("LoadFromAssemblyPath", new[] { typeof(string) });
            var alc = ctor.Invoke(new object[] { LoadContextName, false });

            // Anything not preloaded (and not in the default context's framework) is looked up here last.
            var resolving = alcType.GetEvent("Resolving");
            var handler = Delegate.CreateDelegate(resolving.EventHandlerType,
                typeof(DependencyLoader).GetMethod(nameof(OnContextResolving), BindingFlags.NonPublic | BindingFlags.Static));
            resolving.AddEventHandler(alc, handler);

            // Load the engine, then preload by path the dependencies it references (and theirs) that are in the
            // folder, before any engine code runs: a context answers a by-name request from what it has loaded
            // before it defers to the default context, so the engine binds to these copies even when the default
            // context holds another version of the same assembly. Loading an assembly binds none of its references.
            var engine = (Assembly)loadFromPath.Invoke(alc, new object[] { enginePath });
            var seen = new System.Collections.Generic.HashSet<string>(StringComparer.OrdinalIgnoreCase) { EngineAssemblyName };
            var pending = new System.Collections.Generic.Queue<Assembly>();
            pending.Enqueue(engine);
            while (pending.Count > 0)
            {
                foreach (var reference in pending.Dequeue().GetReferencedAssemblies())
                {
                    if (!seen.Add(reference.Name) || IsOwnOrHost(reference.Name)) continue;
                    var path = Path.Combine(dir, reference.Name + ".dll");
                    if (File.Exists(path)) pending.Enqueue((Assembly)loadFromPath.Invoke(alc, new object[] { path }));
                }
            }
            _loadContext = alc;
            return engine;
        }

        private static Assembly OnContextResolving(object context, AssemblyName name)
        {
            // The engine references this assembly: it must get this very copy, so the contract types are shared.
            if (string.Equals(name.Name, typeof(DependencyLoader).Assembly.GetName().Name, StringComparison.OrdinalIgnoreCase))
                return typeof(DependencyLoader).Assembly;
            var path = Path.Combine(DependencyDirectory, name.Name + ".dll");
            if (!File.Exists(path)) return null;
            var load = context.GetType().GetMethod("LoadFromAssemblyPath", new[] { typeof(string) });
            return (Assembly)load.Invoke(context, new object[] { path });
        }

        // ---- .NET Framework: LoadFrom, side by side by strong name ---------------------------------------

        private static Assembly LoadFramework(string enginePath)
        {
            Register();
            return Assembly.LoadFrom(enginePath);
        }

        private static Assembly OnFrameworkResolve(object sender, ResolveEventArgs args)
        {
            var name = new AssemblyName(args.Name);
            if (string.Equals(name.Name, typeof(DependencyLoader).Assembly.GetName().Name, StringComparison.OrdinalIgnoreCase))
                return typeof(DependencyLoader).Assembly;
            // Answer only for the engine and its dependencies, never for other modules' requests.
            if (args.RequestingAssembly != null && !IsFromDependencyDirectory(args.RequestingAssembly)) return null;
            var path = Path.Combine(DependencyDirectory, name.Name + ".dll");
            if (!File.Exists(path)) return null;
            var candidate = AssemblyName.GetAssemblyName(path);
            if (name.Version != null && candidate.Version < name.Version) return null;
            return Assembly.LoadFrom(path);
        }

        private static bool IsFromDependencyDirectory(Assembly assembly)
        {
            try
            {
                var dir = Path.GetDirectoryName(assembly.Location);
                return string.Equals(Path.GetFullPath(dir ?? ""), Path.GetFullPath(DependencyDirectory), StringComparison.OrdinalIgnoreCase);
            }
            catch (Exception) { return false; }
        }

        private static bool IsOwnOrHost(string name)
            => string.Equals(name, typeof(DependencyLoader).Assembly.GetName().Name, StringComparison.OrdinalIgnoreCase)
               || name.StartsWith("System.Management.Automation", StringComparison.OrdinalIgnoreCase)
               || name.StartsWith("Microsoft.PowerShell", StringComparison.OrdinalIgnoreCase);
    }

    /// <summary>Import-Module and Remove-Module hooks: register and remove the resolver. Nothing heavy happens at import.</summary>
    public sealed class ModuleInitializer : IModuleAssemblyInitializer, IModuleAssemblyCleanup
    {
        /// <summary>Runs when the module is imported.</summary>
        public void OnImport() => DependencyLoader.Register();

        /// <summary>Runs when the module is removed.</summary>
        public void OnRemove(PSModuleInfo psModuleInfo) => DependencyLoader.Unregister();
    }
}
