"""Warehouse: a small example service built on dam-sdk.

Three models (Warehouse, Product, StockItem), two custom DataAccessManagers
(ProductManager, StockManager) and one model on the default manager (Warehouse).
"""
