"""dam-codegen: typed broker proxies for a service's DataAccessManagers.

The pipeline is a chain of small stages talking through plain data::

    loading.loaded_registry      registry_config.py -> the registered ModelInfo entries
    inspection.inspect_service   -> ir.Service (typeforms: runtime hints -> ir expressions)
    render.render_module         ir.Service -> module text (templates/, imports, layout)
    annotate.annotate_source     DAM source -> source with the typed ``broker`` property
    output.FileUpdate            write, or diff against the file on disk (--check)

``pipeline.generate`` composes them for one service; ``isolation`` runs that in a fresh
interpreter per service; ``cli.main`` is the ``dam-codegen`` command.
"""
