"""dam-codegen: typed broker proxies for a service's DataAccessManagers.

Pipeline (each stage a plain function over plain data)::

    loading.loaded_registry -> inspection.inspect_service -> ir.Service
        -> render.render_module -> output.write_or_check         (+ annotate.annotate_managers)
"""
